using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The Art. 13 text on the sign-up page is true for this installation (C40, C3).</summary>
public sealed class PrivacyTextTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 6, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly List<AppFactory> _apps = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var app in _apps) await app.DisposeAsync();
    }

    private AppFactory App(Dictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var app = new AppFactory(settings: settings) { TestServices = clock is null ? null : s => s.AddSingleton(clock) };
        _apps.Add(app);
        return app;
    }

    /// <summary>The text of the collapsible Art. 13 block as a reader sees it.</summary>
    private static async Task<string> PrivacyBlockAsync(AppFactory app, string? language = null)
    {
        var html = await app.ReaderClient(language).GetStringAsync("/n/eilmeldungen");
        var details = Regex.Match(html, "<details[^>]*>(.*?)</details>", RegexOptions.Singleline).Groups[1].Value;
        return WebUtility.HtmlDecode(Regex.Replace(details, "<[^>]+>", " "));
    }

    private static Task SetAsync(AppFactory app, Func<Newsletter, Task> change) => app.WithDbAsync(async db =>
    {
        var n = await db.Newsletters.SingleAsync();
        await change(n);
        await db.SaveChangesAsync();
        return 0;
    });

    [Fact]
    public async Task The_retention_the_text_states_is_the_retention_the_job_applies_C40()
    {
        var clock = new ManualClock(Start);
        var app = App(new()
        {
            ["Retention:UnconfirmedAfter"] = "5.00:00:00",
            ["Retention:ConsentProofYears"] = "2",
            ["Retention:OutboxDays"] = "10",
        }, clock);
        await app.NewsletterAsync();

        var german = await PrivacyBlockAsync(app);
        Assert.Contains("Anmeldungen, die nicht bestätigt werden, löschen wir 5 Tage nach der letzten Bestätigungs-E-Mail.", german);
        Assert.Contains("bis zum Ende des zweiten Kalenderjahres nach dem Jahr der letzten E-Mail an Sie oder Ihrer Abmeldung", german);
        Assert.Contains("Empfängeradresse und Antwort des Mailservers 10 Tage nach dem Versand", german);
        Assert.DoesNotContain("7 Tage", german);
        Assert.DoesNotContain("dritten", german);
        var english = await PrivacyBlockAsync(app, "en");
        Assert.Contains("Sign-ups that are not confirmed are deleted 5 days after the last confirmation email.", english);
        Assert.Contains("until the end of the second calendar year after the year of the last email to you", english);
        Assert.Contains("10 days after sending", english);

        // The migration end is stated as the Berlin date on which RetentionService deletes the numbers (C16).
        await SetAsync(app, n =>
        {
            n.MigrationEndsAtUtc = Common.Berlin.EndOfDayUtc(new DateOnly(2026, 12, 31));
            return Task.CompletedTask;
        });
        Assert.Contains("Ihre Telefonnummer aus der WhatsApp-Einladung löschen wir, sobald Sie Ihre Anmeldung bestätigen; "
                        + "alle übrigen Nummern, Namen und Prüfwerte von Nummern nach dem Ende der Umstellung am 31.12.2026.", await PrivacyBlockAsync(app));
        Assert.Contains("after the migration ends on 31 December 2026.", await PrivacyBlockAsync(app, "en"));

        // The same numbers are what the retention job does.
        await app.SignUpAsync("/n/eilmeldungen", "offen@example.test");
        var loyal = await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", "treu@example.test");
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.OutboundMessages.AllAsync(m => m.SentAtUtc != null)));
        var open = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "offen@example.test"));
        var confirmed = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "treu@example.test"));

        clock.Now = Start.AddDays(5).AddMinutes(-1);
        Assert.Equal(0, (await RunRetentionAsync(app)).UnconfirmedDeleted);
        clock.Now = Start.AddDays(5).AddMinutes(1);
        Assert.Equal(1, (await RunRetentionAsync(app)).UnconfirmedDeleted);
        Assert.False(await app.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.Id == open.Id)));

        clock.Now = Start.AddDays(10).AddMinutes(-1);
        await RunRetentionAsync(app);
        Assert.True(await app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.SubscriberId == confirmed.Id && m.ToAddress != "")));
        clock.Now = Start.AddDays(10).AddMinutes(1);
        await RunRetentionAsync(app);
        Assert.False(await app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.SubscriberId == confirmed.Id && m.ToAddress != "")));

        // The unconfirmed sign-up's proof (all of 2026) stays until the end of 2028 in Berlin, the second year after.
        var endOf2028Berlin = new DateTimeOffset(2028, 12, 31, 23, 0, 0, TimeSpan.Zero);
        clock.Now = endOf2028Berlin.AddMinutes(-1);
        Assert.Equal(0, (await RunRetentionAsync(app)).ConsentProofsDeleted);
        Assert.True(await app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == open.Id)));
        clock.Now = endOf2028Berlin.AddMinutes(1);
        Assert.Equal(1, (await RunRetentionAsync(app)).ConsentProofsDeleted);
        Assert.False(await app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == open.Id)));
        Assert.True(await app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == confirmed.Id)));
        loyal.Dispose();
    }

    private static async Task<RetentionRun> RunRetentionAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var run = await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync("test") ?? throw new InvalidOperationException("Another retention run held the lease.");
        Assert.Null(run.Error);
        return run;
    }

    [Fact]
    public async Task The_text_names_controller_processors_and_the_supervisory_authority_and_the_officer_only_when_set_C40()
    {
        var app = App(new()
        {
            ["Privacy:MailProvider"] = "Beispiel Mail GmbH, Berlin",
            ["Privacy:MailProviderCountry"] = "Deutschland",
        });
        await app.NewsletterAsync();

        var text = await PrivacyBlockAsync(app);
        Assert.Contains($"Verantwortlich: {LegalIdentity.ControllerName}, {LegalIdentity.ControllerAddress}, {LegalIdentity.ControllerEmail}", text);
        Assert.Contains("Den Versand der E-Mails übernimmt Beispiel Mail GmbH, Berlin (Deutschland) in unserem Auftrag (Art. 28 DSGVO).", text);
        Assert.Contains("WhatsApp Ireland Ltd. (Meta)", text);
        Assert.Contains("Art. 6 Abs. 1 lit. a DSGVO", text);
        Assert.Contains("Art. 6 Abs. 1 lit. c in Verbindung mit Art. 7 Abs. 1 DSGVO", text);
        foreach (var right in new[] { "Art. 15", "Art. 16", "Art. 17", "Art. 18", "Art. 20", "Art. 21", "Art. 7 Abs. 3 DSGVO", "Art. 77 DSGVO" })
            Assert.Contains(right, text);
        // Nothing that is not set, and no placeholder.
        Assert.DoesNotContain("Datenschutzbeauftragte", text);
        Assert.DoesNotContain("Drittländer", text);
        Assert.DoesNotContain("zuständig", text);
        Assert.DoesNotMatch("[{}\\[\\]]|XXX|TODO", text);

        await SetAsync(app, n =>
        {
            n.DataProtectionOfficer = "Dr. Datenschutz, dsb@tagblatt.example.test";
            n.SupervisoryAuthority = "Landesbeauftragte für Datenschutz Musterland, Musterweg 2, 12345 Musterstadt";
            return Task.CompletedTask;
        });
        text = await PrivacyBlockAsync(app);
        Assert.Contains("Datenschutzbeauftragte/r: Dr. Datenschutz, dsb@tagblatt.example.test", text);
        Assert.Contains("für uns zuständig ist: Landesbeauftragte für Datenschutz Musterland, Musterweg 2, 12345 Musterstadt", text);
        var english = await PrivacyBlockAsync(app, "en");
        Assert.Contains("Data protection officer: Dr. Datenschutz, dsb@tagblatt.example.test", english);
        Assert.Contains("The emails are sent by Beispiel Mail GmbH, Berlin (Deutschland) on our behalf", english);
        Assert.Contains("WhatsApp Ireland Ltd. (Meta)", english);
        Assert.Contains("the authority responsible for us is: Landesbeauftragte für Datenschutz Musterland", english);
    }

    [Fact]
    public async Task Third_country_transfers_and_the_invitations_legal_basis_are_stated_where_they_exist_C40()
    {
        var app = App(new()
        {
            ["Privacy:MailProvider"] = "Example Mail Inc., San Francisco",
            ["Privacy:MailProviderCountry"] = "USA",
            ["Privacy:ThirdCountryTransfers"] = "Der E-Mail-Dienstleister verarbeitet Daten in den USA auf Grundlage des EU-US Data Privacy Framework (Art. 45 DSGVO).",
            ["Privacy:ThirdCountryTransfersEn"] = "The email provider processes data in the USA under the EU-US Data Privacy Framework (Art. 45 GDPR).",
        });
        var newsletter = await app.NewsletterAsync();
        var text = await PrivacyBlockAsync(app);
        Assert.Contains("Übermittlung in Drittländer: Der E-Mail-Dienstleister verarbeitet Daten in den USA auf Grundlage des EU-US Data Privacy Framework (Art. 45 DSGVO)", text);
        Assert.Contains("Transfers to third countries: The email provider processes data in the USA under the EU-US Data Privacy Framework", await PrivacyBlockAsync(app, "en"));
        Assert.DoesNotContain("Rechtsgrundlage: bestehende", text);

        // Once an import records its legal basis, the invitation paragraph names it.
        await app.WithDbAsync(async db =>
        {
            db.ImportBatches.Add(new ImportBatch
            {
                NewsletterId = newsletter.Id, FileName = "liste.csv", Status = ImportStatus.Completed, CreatedAtUtc = DateTime.UtcNow,
                LegalBasisKind = Importing.LegalBases.ExistingConsent, LegalBasis = "bestehende Einwilligung zum WhatsApp-Newsletter, eingeholt bis 06.12.2019",
            });
            return await db.SaveChangesAsync();
        });
        // The editor's words, and the article the chosen kind stands for.
        Assert.Contains("Rechtsgrundlage: bestehende Einwilligung zum WhatsApp-Newsletter, eingeholt bis 06.12.2019 (Art. 6 Abs. 1 lit. a DSGVO).", await PrivacyBlockAsync(app));
    }

    [Fact]
    public async Task Without_a_named_mail_provider_the_text_names_the_SMTP_host_or_says_mail_stays_on_the_server_C40()
    {
        var smtpApp = App();
        await smtpApp.NewsletterAsync();
        Assert.Contains("Die E-Mails werden über den Mailserver 127.0.0.1 versandt.", await PrivacyBlockAsync(smtpApp));

        var pickupApp = App(new() { ["Smtp:Host"] = "", ["Smtp:PickupDirectory"] = Path.Combine(Path.GetTempPath(), "nm-pickup-" + Guid.NewGuid()) });
        await pickupApp.NewsletterAsync();
        var text = await PrivacyBlockAsync(pickupApp);
        Assert.Contains("Die E-Mails werden auf unserem Server abgelegt und an keinen E-Mail-Dienstleister übergeben.", text);
        Assert.DoesNotContain("über den Mailserver", text);
    }

    [Theory]
    [InlineData("Production", "smtp.provider.example", "", false)]
    [InlineData("Production", "smtp.provider.example", "Beispiel Mail GmbH, Berlin", true)]
    [InlineData("Production", "", "", true)]
    [InlineData("Development", "smtp.provider.example", "", true)]
    public void In_production_a_real_SMTP_server_needs_the_mail_provider_named_C40(string environment, string smtpHost, string provider, bool valid)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Smtp:Host"] = smtpHost }).Build();
        var hosting = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment };
        var result = new PrivacyOptionsValidator(hosting, configuration).Validate(null, new PrivacyOptions { MailProvider = provider });
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Privacy:MailProvider", result.FailureMessage);
    }
}
