using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

// The logo upload (issue 17) is a file: a file above the 1 MB form limit gets the logo's own "too large" message,
// not a bare 413 (NewsletterLogos refuses anything above its own cap).
[Importing.AcceptsUpload]
public sealed class EditModel(AppDbContext db, NewsletterService newsletters, ConsentTextService consentTexts,
    IStringLocalizer<SharedResource> text, TimeProvider clock, Inviting.InvitationLinks links, IHostEnvironment environment) : PageModel
{
    /// <summary>Each language's invitation as sent, with a sample name and a link of the real length (C11: shown before sending).</summary>
    public string?[] InvitationPreviews { get; private set; } = new string?[2];

    [FromRoute] public int? Id { get; set; }
    [BindProperty] public NewsletterInput Input { get; set; } = new();
    public int[] ConsentVersions { get; private set; } = new int[Languages.Supported.Length];
    /// <summary>What the newsletter still lacks before it may go live (C38); empty when it is open.</summary>
    public IReadOnlyList<LegalItem> Missing { get; private set; } = [];
    /// <summary>The stored logo as the reader pages show it; null: none.</summary>
    public string? LogoUrl { get; private set; }
    public int LogoWidth { get; private set; }
    public int LogoHeight { get; private set; }
    /// <summary>issue 21: the logo as mails show it (a PNG; an SVG's raster); null: mails show the name. <see cref="LogoIsSvg"/>: it is an SVG.</summary>
    public MailLogo? MailLogo { get; private set; }
    public bool LogoIsSvg { get; private set; }
    /// <summary>The logo upload, a form of its own (multipart) apart from the settings form.</summary>
    [BindProperty] public IFormFile? Logo { get; set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (Id is null) return Page();
        var n = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (n is null) return NotFound();
        Input = new NewsletterInput
        {
            Name = n.Name, Slug = n.Slug, SenderName = n.SenderName, SenderAddress = n.SenderAddress, ReplyTo = n.ReplyTo,
            ControllerName = n.ControllerName, ControllerAddress = n.ControllerAddress, ControllerEmail = n.ControllerEmail,
            DataProtectionOfficer = n.DataProtectionOfficer, SupervisoryAuthority = n.SupervisoryAuthority,
            Impressum = n.Impressum, ImpressumUrl = n.ImpressumUrl, PrivacyNoticeUrl = n.PrivacyNoticeUrl,
            PrivacyNoticeVersion = n.PrivacyNoticeVersion, TestRecipients = n.TestRecipients, DefaultRegion = n.DefaultRegion,
            InvitationMessage = n.InvitationMessage, InvitationMessageEn = n.InvitationMessageEn,
            MigrationEndDate = n.MigrationEndsAtUtc is { } end ? DateOnly.FromDateTime(Berlin.ToLocal(end)) : null,
            EmbedOrigins = n.EmbedOrigins,
            BrandColour = n.BrandColour, BrandFooter = n.BrandFooter,
        };
        Missing = LegalReadiness.Missing(n);
        ShowLogo(n);
        await LoadConsentTextsAsync(fillInput: true);
        FillPreviews();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = User.Identity!.Name!;
        // The stored newsletter, read once: its end date decides what may change, a failed save shows its checklist.
        var stored = Id is null ? null : await db.Newsletters.SingleOrDefaultAsync(x => x.Id == Id);
        if (Id is not null && stored is null) return NotFound();
        Input.Slug = Input.Slug?.Trim().ToLowerInvariant();
        Input.DefaultRegion = Input.DefaultRegion?.Trim().ToUpperInvariant();
        if (!NewsletterService.IsValidSlug(Input.Slug)) ModelState.AddModelError("Input.Slug", text["Newsletter_SlugInvalid"]);
        else if (await newsletters.SlugTakenAsync(Input.Slug!, Id)) ModelState.AddModelError("Input.Slug", text["Newsletter_SlugTaken"]);
        if (!EmailAddress.TryNormalize(Input.SenderAddress, out var sender)) ModelState.AddModelError("Input.SenderAddress", text["SignUp_EmailInvalid"]);
        var replyTo = "";
        if (!string.IsNullOrWhiteSpace(Input.ReplyTo) && !EmailAddress.TryNormalize(Input.ReplyTo, out replyTo))
            ModelState.AddModelError("Input.ReplyTo", text["SignUp_EmailInvalid"]);
        if (!PhoneNumbers.PhoneNumberUtil.GetInstance().GetSupportedRegions().Contains(Input.DefaultRegion ?? ""))
            ModelState.AddModelError("Input.DefaultRegion", text["Newsletter_RegionInvalid"]);
        if (!string.IsNullOrWhiteSpace(Input.PrivacyNoticeUrl) && !WebLink.IsValid(Input.PrivacyNoticeUrl))
            ModelState.AddModelError("Input.PrivacyNoticeUrl", text["Newsletter_UrlInvalid"]);
        if (!string.IsNullOrWhiteSpace(Input.ImpressumUrl) && !WebLink.IsValid(Input.ImpressumUrl))
            ModelState.AddModelError("Input.ImpressumUrl", text["Newsletter_UrlInvalid"]);
        var controllerEmail = "";
        if (!string.IsNullOrWhiteSpace(Input.ControllerEmail) && !EmailAddress.TryNormalize(Input.ControllerEmail, out controllerEmail))
            ModelState.AddModelError("Input.ControllerEmail", text["SignUp_EmailInvalid"]);
        var testRecipients = TestRecipients.Parse(Input.TestRecipients);
        if (!testRecipients.IsValid)
            ModelState.AddModelError("Input.TestRecipients", text["Newsletter_TestRecipientsInvalid", string.Join(", ", testRecipients.Invalid)]);
        if (!string.IsNullOrWhiteSpace(Input.InvitationMessage) && !Input.InvitationMessage.Contains("{link}"))
            ModelState.AddModelError("Input.InvitationMessage", text["Newsletter_InvitationNeedsLink"]);
        if (!string.IsNullOrWhiteSpace(Input.InvitationMessageEn) && !Input.InvitationMessageEn.Contains("{link}"))
            ModelState.AddModelError("Input.InvitationMessageEn", text["Newsletter_InvitationNeedsLink"]);
        // issue 17: the portals that may frame the embed page; each a bare https origin (http on loopback outside Production, see EmbedOrigins).
        var embedOrigins = EmbedOrigins.ParseInput(Input.EmbedOrigins, environment);
        if (!embedOrigins.IsValid)
            ModelState.AddModelError("Input.EmbedOrigins", text["Embed_OriginsInvalid", string.Join(", ", embedOrigins.Invalid)]);
        // issue 21: the brand colour (any colour; contrast is taken care of when it is used) and a one-line footer.
        if (!NewsletterBrand.TryColour(Input.BrandColour, out var brandColour)) ModelState.AddModelError("Input.BrandColour", text["Brand_ColourInvalid"]);
        if (!NewsletterBrand.TryFooter(Input.BrandFooter, out var brandFooter)) ModelState.AddModelError("Input.BrandFooter", text["Brand_FooterInvalid"]);
        Input.BrandColour = brandColour;
        Input.BrandFooter = brandFooter;
        // issue 12 (C16): the migration end moves only while it has not passed, is not removed, and a new one lies ahead.
        var endChange = MigrationEnd.CheckChange(stored?.MigrationEndsAtUtc, Input.MigrationEndDate is { } proposed ? Berlin.EndOfDayUtc(proposed) : null, clock.GetUtcNow().UtcDateTime);
        if (endChange != MigrationEndChange.Allowed) ModelState.AddModelError("Input.MigrationEndDate", text[MigrationEnd.ChangeMessageKey(endChange)]);
        if (!ModelState.IsValid)
        {
            if (stored is not null) Missing = LegalReadiness.Missing(stored);
            if (stored is not null) ShowLogo(stored);
            await LoadConsentTextsAsync(fillInput: false);
            FillPreviews();
            return Page();
        }

        var endsAt = Input.MigrationEndDate is { } date ? Berlin.EndOfDayUtc(date) : (DateTime?)null;
        if (stored is null)
        {
            var created = new Newsletter { Name = "", Slug = "", SenderName = "", SenderAddress = "" };
            Apply(created, sender, replyTo, controllerEmail, testRecipients.Text, endsAt);
            try
            {
                await newsletters.CreateAsync(created, user);
            }
            catch (DbUpdateException e) when (UniqueViolation.Is(e))
            {
                return await SlugTakenMeanwhileAsync(null);
            }
            TempData["Message"] = text["Saved"].Value;
            return RedirectToPage(new { id = created.Id });
        }

        var n = stored;
        Apply(n, sender, replyTo, controllerEmail, testRecipients.Text, endsAt);
        db.Audit(user, "settings", $"edited newsletter {n.Slug}", clock.GetUtcNow().UtcDateTime);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
        {
            return await SlugTakenMeanwhileAsync(n.Id);
        }
        foreach (var consent in Input.ConsentTexts.Where(c => Languages.Supported.Contains(c.Language) && !string.IsNullOrWhiteSpace(c.Statement)))
        {
            await consentTexts.SaveAsync(n.Id, consent.Language, consent.Statement!.Trim(), consent.PrivacyInformation?.Trim() ?? "", n.PrivacyNoticeUrl, n.PrivacyNoticeVersion);
        }
        TempData["Message"] = text["Saved"].Value;
        return RedirectToPage(new { id = n.Id });
    }

    /// <summary>Uploads or replaces the logo; a refused file changes nothing and the page says why.</summary>
    public async Task<IActionResult> OnPostLogoAsync([FromServices] NewsletterLogos logos)
    {
        if (Id is null || !await db.Newsletters.AnyAsync(x => x.Id == Id)) return NotFound();
        var outcome = Logo is null
            ? new LogoOutcome(false, "LogoSvg_NoFile")
            : await UploadAsync(logos, Logo);
        if (outcome.Stored)
        {
            // issue 21: an SVG's notes (what the cleaning took out, a missing mail PNG) follow the confirmation.
            TempData["Message"] = string.Join(" ", outcome.Notes.Select(n => text[n.Key, n.Args].Value).Prepend(text["Logo_Saved"].Value));
            return RedirectToPage(null, null, new { id = Id }, "logo");
        }
        return await ShowLogoRefusalAsync(text[outcome.MessageKey!, outcome.MessageArgs ?? []]);
    }

    public async Task<IActionResult> OnPostRemoveLogoAsync([FromServices] NewsletterLogos logos)
    {
        if (Id is null || !await db.Newsletters.AnyAsync(x => x.Id == Id)) return NotFound();
        if (await logos.RemoveAsync(Id.Value, User.Identity!.Name!)) TempData["Message"] = text["Logo_Removed"].Value;
        return RedirectToPage(null, null, new { id = Id }, "logo");
    }

    private async Task<LogoOutcome> UploadAsync(NewsletterLogos logos, IFormFile file)
    {
        await using var stream = file.OpenReadStream();
        return await logos.SetAsync(Id!.Value, stream, file.Length, User.Identity!.Name!);
    }

    /// <summary>The settings page as stored, with the refusal at the upload field (the settings form was not posted).</summary>
    private async Task<IActionResult> ShowLogoRefusalAsync(string message)
    {
        await OnGetAsync();
        // The logo form posts no settings: their empty binding must not show as errors or blank the fields.
        ModelState.Clear();
        ModelState.AddModelError(nameof(Logo), message);
        return Page();
    }

    private void ShowLogo(Newsletter n)
    {
        LogoUrl = NewsletterLogos.UrlFor(n);
        LogoWidth = n.LogoWidth;
        LogoHeight = n.LogoHeight;
        MailLogo = NewsletterLogos.MailLogoFor(n);
        LogoIsSvg = n.LogoSvg;
    }

    /// <summary>
    /// Another save took the slug between the check above and this one (two admins, or one double-click on
    /// "create"): the unique index held, and the form says so as if the check had seen it. Nothing was saved.
    /// </summary>
    private async Task<IActionResult> SlugTakenMeanwhileAsync(int? id)
    {
        db.ChangeTracker.Clear();
        ModelState.AddModelError("Input.Slug", text["Newsletter_SlugTaken"]);
        if (id is { } existing && await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(x => x.Id == existing) is { } stored)
            Missing = LegalReadiness.Missing(stored);
        await LoadConsentTextsAsync(fillInput: false);
        FillPreviews();
        return Page();
    }

    /// <summary>The form's values onto the newsletter, for a new one and an existing one alike.</summary>
    private void Apply(Newsletter n, string sender, string replyTo, string controllerEmail, string testRecipients, DateTime? endsAt)
    {
        n.Name = Input.Name!.Trim();
        n.Slug = Input.Slug!;
        n.SenderName = Input.SenderName!.Trim();
        n.SenderAddress = sender;
        n.ReplyTo = string.IsNullOrEmpty(replyTo) ? null : replyTo;
        n.ControllerName = Input.ControllerName?.Trim() ?? "";
        n.ControllerAddress = Input.ControllerAddress?.Trim() ?? "";
        n.ControllerEmail = controllerEmail;
        n.DataProtectionOfficer = Input.DataProtectionOfficer?.Trim() ?? "";
        n.SupervisoryAuthority = Input.SupervisoryAuthority?.Trim() ?? "";
        n.Impressum = Input.Impressum?.Trim() ?? "";
        n.ImpressumUrl = Input.ImpressumUrl?.Trim() ?? "";
        n.PrivacyNoticeUrl = Input.PrivacyNoticeUrl?.Trim() ?? "";
        n.PrivacyNoticeVersion = Input.PrivacyNoticeVersion?.Trim() ?? "";
        n.TestRecipients = testRecipients;
        n.DefaultRegion = Input.DefaultRegion!;
        // A textarea posts CRLF; stored with LF, a text left as the default is recognised as the default.
        n.InvitationMessage = string.IsNullOrWhiteSpace(Input.InvitationMessage) ? NewsletterService.DefaultInvitation : Input.InvitationMessage.ReplaceLineEndings("\n");
        n.InvitationMessageEn = Input.InvitationMessageEn?.Trim().ReplaceLineEndings("\n") ?? "";
        n.MigrationEndsAtUtc = endsAt;
        n.EmbedOrigins = EmbedOrigins.Parse(Input.EmbedOrigins).Text; // validated above; stored one normalized origin a line
        n.BrandColour = Input.BrandColour ?? ""; // normalised above
        n.BrandFooter = Input.BrandFooter ?? "";
    }

    private void FillPreviews()
    {
        // The final length with everything the placeholders become: the sender as the form names it (newsletter
        // and controller), the privacy URL and a real-length link.
        var sender = Inviting.InvitationSender.Of(Input.Name, Input.ControllerName, Input.PrivacyNoticeUrl);
        string? Preview(string? template) => string.IsNullOrWhiteSpace(template) ? null : Inviting.InvitationLinks.Fill(template, sender, "Anna", links.SampleLink());
        InvitationPreviews = [Preview(Input.InvitationMessage), Preview(Input.InvitationMessageEn)];
    }

    private async Task LoadConsentTextsAsync(bool fillInput)
    {
        if (Id is null) return;
        for (var i = 0; i < Languages.Supported.Length; i++)
        {
            var current = await consentTexts.CurrentAsync(Id.Value, Languages.Supported[i]);
            ConsentVersions[i] = current?.Version ?? 0;
            if (fillInput || Input.ConsentTexts.Count <= i)
            {
                while (Input.ConsentTexts.Count <= i) Input.ConsentTexts.Add(new ConsentTextInput { Language = Languages.Supported[i] });
                Input.ConsentTexts[i] = new ConsentTextInput { Language = Languages.Supported[i], Statement = current?.Statement, PrivacyInformation = current?.PrivacyInformation };
            }
        }
    }
}

public sealed class NewsletterInput
{
    public string? BrandColour { get; set; }
    public string? BrandFooter { get; set; }
    [Required(ErrorMessage = "Required"), StringLength(200)] public string? Name { get; set; }
    [Required(ErrorMessage = "Required"), StringLength(64)] public string? Slug { get; set; }
    [Required(ErrorMessage = "Required"), StringLength(200)] public string? SenderName { get; set; }
    [Required(ErrorMessage = "Required")] public string? SenderAddress { get; set; }
    public string? ReplyTo { get; set; }
    [StringLength(300, ErrorMessage = "Field_TooLong")] public string? ControllerName { get; set; }
    [StringLength(1000, ErrorMessage = "Field_TooLong")] public string? ControllerAddress { get; set; }
    public string? ControllerEmail { get; set; }
    [StringLength(1000, ErrorMessage = "Field_TooLong")] public string? DataProtectionOfficer { get; set; }
    [StringLength(1000, ErrorMessage = "Field_TooLong")] public string? SupervisoryAuthority { get; set; }
    [StringLength(10000, ErrorMessage = "Field_TooLong")] public string? Impressum { get; set; }
    [StringLength(2000, ErrorMessage = "Field_TooLong")] public string? ImpressumUrl { get; set; }
    [StringLength(2000, ErrorMessage = "Field_TooLong")] public string? PrivacyNoticeUrl { get; set; }
    [StringLength(100, ErrorMessage = "Field_TooLong")] public string? PrivacyNoticeVersion { get; set; }
    [StringLength(10000, ErrorMessage = "Field_TooLong")] public string? TestRecipients { get; set; }
    [Required(ErrorMessage = "Required")] public string? DefaultRegion { get; set; } = "DE";
    public string? InvitationMessage { get; set; } = NewsletterService.DefaultInvitation;
    public string? InvitationMessageEn { get; set; }
    public DateOnly? MigrationEndDate { get; set; }
    [StringLength(4000, ErrorMessage = "Field_TooLong")] public string? EmbedOrigins { get; set; }
    public List<ConsentTextInput> ConsentTexts { get; set; } = [];
}

public sealed class ConsentTextInput
{
    public string Language { get; set; } = "de";
    public string? Statement { get; set; }
    public string? PrivacyInformation { get; set; }
}
