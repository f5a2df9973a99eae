using System.Globalization;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// <c>create-newsletter</c> and <c>update-newsletter</c>: the legal identity can be given on the command line, so a
/// container can set up a newsletter that is open from the start (C38). Without it the newsletter is created all the
/// same, not yet open, and the verb says what is missing and which option sets it.
/// </summary>
public static class NewsletterVerbs
{
    public const string Usage =
        "create-newsletter --slug <slug> --name <name> --from <address> [--controller \"<name, address>\"] [--contact <address>] " +
        "[--impressum-url <url> | --impressum-file <file>] [--privacy-url <url>] [--privacy-version <label>] [--migration-end <yyyy-mm-dd>] " +
        "[--controller-name \"<name>\" --controller-address \"<address>\"] [--dpo \"<name, contact>\"] [--supervisory-authority \"<name>\"] [--embed-origins <https://origin,...>];  update-newsletter --slug <slug> [the same options] [--logo <file.png|file.svg>] [--colour <#rrggbb>] [--footer-text \"<one line>\"] " +
        Archive.ArchiveCommandLine.Usage + " " + WelcomeVerbOptions.Usage;

    public static async Task<int> CreateAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        var slug = CommandLine.Option(args, "--slug");
        var name = CommandLine.Option(args, "--name");
        var from = CommandLine.Option(args, "--from");
        if (slug is null || name is null || from is null) return Fail(errors, "Usage: " + Usage);
        if (!NewsletterService.IsValidSlug(slug)) return Fail(errors, "The slug may contain lower-case letters, digits and hyphens.");
        if (!EmailAddress.TryNormalize(from, out var sender)) return Fail(errors, $"'{from}' is not a valid email address.");
        var newsletters = services.GetRequiredService<NewsletterService>();
        if (await newsletters.SlugTakenAsync(slug, null)) return Fail(errors, $"A newsletter with the slug '{slug}' exists already.");

        var newsletter = new Newsletter { Slug = slug, Name = name, SenderName = name, SenderAddress = sender };
        if (Apply(newsletter, args, services.GetRequiredService<TimeProvider>(), services.GetRequiredService<IHostEnvironment>()) is { } error) return Fail(errors, error);
        await newsletters.CreateAsync(newsletter, "command line");
        output.WriteLine($"Newsletter '{slug}' created.");
        return Report(newsletter, output);
    }

    public static async Task<int> UpdateAsync(IServiceProvider services, string[] args, TextWriter output, TextWriter errors)
    {
        var slug = CommandLine.Option(args, "--slug");
        if (slug is null) return Fail(errors, "Usage: " + Usage);
        var db = services.GetRequiredService<AppDbContext>();
        var newsletter = await db.Newsletters.SingleOrDefaultAsync(n => n.Slug == slug);
        if (newsletter is null) return Fail(errors, $"No newsletter with the slug '{slug}'.");
        if (CommandLine.Option(args, "--name") is { } name) newsletter.Name = name;
        if (CommandLine.Option(args, "--from") is { } from)
        {
            if (!EmailAddress.TryNormalize(from, out var sender)) return Fail(errors, $"'{from}' is not a valid email address.");
            newsletter.SenderAddress = sender;
        }
        var clock = services.GetRequiredService<TimeProvider>();
        if (Apply(newsletter, args, clock, services.GetRequiredService<IHostEnvironment>()) is { } error) return Fail(errors, error);
        // issue 21: the welcome mail after a confirmed DOI; refused with nothing saved, like every option here.
        if (WelcomeVerbOptions.Apply(services, newsletter, args, clock.GetUtcNow().UtcDateTime) is { } welcomeError) return Fail(errors, welcomeError);
        db.Audit("command line", "settings", $"edited newsletter {slug}", clock.GetUtcNow().UtcDateTime);
        if (Archive.ArchiveCommandLine.Given(args)) db.Audit("command line", "archive-settings", Archive.ArchiveService.Describe(newsletter), clock.GetUtcNow().UtcDateTime);
        // The logo (PNG or SVG, by content) is saved together with the other changes, or refused with nothing saved.
        var logoNotes = new List<string>();
        if (CommandLine.Option(args, "--logo") is { } logo)
        {
            if (await SetLogoAsync(services, newsletter.Id, logo, logoNotes) is { } logoError) return Fail(errors, logoError);
        }
        else await db.SaveChangesAsync();
        output.WriteLine($"Newsletter '{slug}' updated.");
        if (NewsletterLogos.UrlFor(newsletter) is { } logoUrl && CommandLine.Option(args, "--logo") is not null)
        {
            output.WriteLine($"Logo: {(newsletter.LogoSvg ? "SVG, shown as " : "")}{newsletter.LogoWidth}x{newsletter.LogoHeight} pixels, served at {logoUrl}");
            if (newsletter.LogoSvg)
                output.WriteLine(NewsletterLogos.MailLogoFor(newsletter) is { } mail ? $"Mail logo: PNG {mail.Width}x{mail.Height} pixels at {mail.Url}" : "Mail logo: none, mails show the name.");
            foreach (var note in logoNotes) output.WriteLine(note);
        }
        output.WriteLine(WelcomeVerbOptions.Summary(newsletter));
        return Report(newsletter, output);
    }

    /// <summary>The same checks and cleaning as the settings page; the refusal (and an SVG's notes) in English.</summary>
    private static async Task<string?> SetLogoAsync(IServiceProvider services, int newsletterId, string file, List<string> notes)
    {
        if (!File.Exists(file)) return $"--logo: file not found: {file}; nothing was saved.";
        await using var stream = File.OpenRead(file);
        var outcome = await services.GetRequiredService<NewsletterLogos>().SetAsync(newsletterId, stream, stream.Length, "command line");
        using var english = new CultureScope("en");
        var text = services.GetRequiredService<Microsoft.Extensions.Localization.IStringLocalizer<SharedResource>>();
        notes.AddRange(outcome.Notes.Select(n => text[n.Key, n.Args].Value));
        if (outcome.Stored) return null;
        return $"--logo: {text[outcome.MessageKey!, outcome.MessageArgs ?? []]} Nothing was saved.";
    }

    /// <summary>Sets what the options give; returns an error (and the caller saves nothing) for a bad value.</summary>
    private static string? Apply(Newsletter n, string[] args, TimeProvider clock, IHostEnvironment environment)
    {
        if (CommandLine.Option(args, "--controller") is { } controller)
        {
            // "Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt": the legal name, then the postal address.
            var comma = controller.IndexOf(',');
            if (comma <= 0 || comma == controller.Length - 1)
                return "--controller needs the legal name and the postal address, separated by a comma: \"Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt\" "
                       + "(or give --controller-name and --controller-address).";
            n.ControllerName = controller[..comma].Trim();
            n.ControllerAddress = controller[(comma + 1)..].Trim();
        }
        // For a legal name with a comma in it ("Müller, Meier & Co. KG"), name and address can come apart.
        if (CommandLine.Option(args, "--controller-name") is { } controllerName) n.ControllerName = controllerName.Trim();
        if (CommandLine.Option(args, "--controller-address") is { } controllerAddress) n.ControllerAddress = controllerAddress.Trim();
        if (CommandLine.Option(args, "--contact") is { } contact)
        {
            if (!EmailAddress.TryNormalize(contact, out var address)) return $"--contact: '{contact}' is not a valid email address.";
            n.ControllerEmail = address;
        }
        if (CommandLine.Option(args, "--impressum-url") is { } impressumUrl)
        {
            if (!WebLink.IsValid(impressumUrl)) return $"--impressum-url: '{impressumUrl}' is not an absolute http(s) address (https://…); nothing was saved.";
            n.ImpressumUrl = impressumUrl.Trim();
        }
        if (CommandLine.Option(args, "--impressum-file") is { } impressumFile)
        {
            if (!File.Exists(impressumFile)) return $"--impressum-file: file not found: {impressumFile}";
            var text = File.ReadAllText(impressumFile).Trim();
            if (text.Length == 0) return $"--impressum-file: {impressumFile} is empty.";
            n.Impressum = text;
        }
        if (CommandLine.Option(args, "--privacy-url") is { } privacyUrl)
        {
            if (!WebLink.IsValid(privacyUrl)) return $"--privacy-url: '{privacyUrl}' is not an absolute http(s) address (https://…); nothing was saved.";
            n.PrivacyNoticeUrl = privacyUrl.Trim();
        }
        if (CommandLine.Option(args, "--privacy-version") is { } privacyVersion) n.PrivacyNoticeVersion = privacyVersion.Trim();
        if (CommandLine.Option(args, "--dpo") is { } dpo) n.DataProtectionOfficer = dpo.Trim();
        if (CommandLine.Option(args, "--supervisory-authority") is { } authority) n.SupervisoryAuthority = authority.Trim();
        // issue 17: the portals that may frame /n/{slug}/embed; an empty value clears the list (nobody may).
        if (CommandLine.Option(args, "--embed-origins") is { } embedOrigins)
        {
            var parsed = EmbedOrigins.ParseInput(embedOrigins, environment);
            if (!parsed.IsValid)
                return $"--embed-origins: not a valid origin: {string.Join(", ", parsed.Invalid)}. Give https://host or https://host:port, comma-separated, "
                       + "without a path, query or fragment (http only for localhost and 127.0.0.1, not in Production); nothing was saved.";
            n.EmbedOrigins = parsed.Text;
        }
        // issue 21: the brand colour and footer line, checked as the settings page checks them.
        if ((CommandLine.Option(args, "--colour") ?? CommandLine.Option(args, "--color")) is { } colour)
        {
            if (!NewsletterBrand.TryColour(colour, out var storedColour)) return $"--colour: '{colour}' is not a colour; give #rrggbb (e.g. #c8102e), or \"\" for the default; nothing was saved.";
            n.BrandColour = storedColour;
        }
        if (CommandLine.Option(args, "--footer-text") is { } footer)
        {
            if (!NewsletterBrand.TryFooter(footer, out var storedFooter)) return $"--footer-text: one line of at most {NewsletterBrand.MaxFooterLength} characters; nothing was saved.";
            n.BrandFooter = storedFooter;
        }
        if (Archive.ArchiveCommandLine.Apply(n, args) is { } archiveError) return archiveError;
        if (CommandLine.Option(args, "--migration-end") is { } end)
        {
            if (!DateOnly.TryParseExact(end, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                return $"--migration-end: '{end}' is not a date (yyyy-mm-dd).";
            var endsAt = Berlin.EndOfDayUtc(date);
            var change = MigrationEnd.CheckChange(n.MigrationEndsAtUtc, endsAt, clock.GetUtcNow().UtcDateTime);
            if (change == MigrationEndChange.EndedAlready) return "--migration-end: the migration has ended already; its end date is final.";
            if (change != MigrationEndChange.Allowed) return $"--migration-end: {end} has passed already.";
            n.MigrationEndsAtUtc = endsAt;
        }
        return null;
    }

    /// <summary>Says whether the newsletter is open, and else what is missing and which option sets it.</summary>
    private static int Report(Newsletter newsletter, TextWriter output)
    {
        var missing = LegalReadiness.Missing(newsletter);
        if (missing.Count == 0)
        {
            output.WriteLine($"Open: sign-up at /n/{newsletter.Slug}.");
        }
        else
        {
            output.WriteLine("Not open yet (C38): no sign-up, DOI mail, invitation or campaign until these are set:");
            foreach (var item in missing) output.WriteLine($"  {Describe(item)}: {LegalReadiness.CommandLineOption(item)}");
        }
        if (newsletter.MigrationEndsAtUtc is null)
            output.WriteLine("No migration end date yet: imports and invitations need it (--migration-end <yyyy-mm-dd>).");
        var embedOrigins = EmbedOrigins.Parse(newsletter.EmbedOrigins).Origins;
        output.WriteLine(embedOrigins.Count == 0
            ? $"Embed page /n/{newsletter.Slug}/embed: no portal may frame it (--embed-origins)."
            : $"Embed page /n/{newsletter.Slug}/embed: may be framed by {string.Join(", ", embedOrigins)}.");
        output.WriteLine(Archive.ArchiveCommandLine.Describe(newsletter));
        return 0;
    }

    private static string Describe(LegalItem item) => item switch
    {
        LegalItem.ControllerName => "controller's legal name",
        LegalItem.ControllerAddress => "controller's postal address",
        LegalItem.ControllerEmail => "contact address for data protection requests",
        LegalItem.Impressum => "Impressum",
        LegalItem.PrivacyNoticeUrl => "privacy notice URL",
        LegalItem.PrivacyNoticeVersion => "privacy notice version label",
        _ => item.ToString(),
    };

    private static int Fail(TextWriter errors, string message)
    {
        errors.WriteLine(message);
        return 1;
    }
}
