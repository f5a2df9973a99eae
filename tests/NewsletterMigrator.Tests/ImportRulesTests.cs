using NewsletterMigrator.Common;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 12, points 5 and 6: an import records its legal basis, which follows the reader into the proof
/// (C36); nothing that makes or hands out a personal link runs without a migration end date ahead, and
/// the admin is reminded 14 days before it passes (C16, C29).
/// </summary>
public sealed class ImportRulesTests : IAsyncLifetime
{
    private const string Csv = "Telefonnummer;Name\r\n0160 1111111;Anna Beispiel\r\n0171 2222222;Ben Beispiel\r\n";
    private readonly SettableClock _clock = new();
    private readonly AppFactory _app;

    public ImportRulesTests() => _app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(_clock) };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient staff, int newsletterId, string? kind, string? basis)
    {
        var page = await staff.GetStringAsync($"/admin/import/{newsletterId}");
        using var upload = new MultipartFormDataContent();
        upload.Add(new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken");
        if (kind is not null) upload.Add(new StringContent(kind), "LegalBasisKind");
        if (basis is not null) upload.Add(new StringContent(basis), "LegalBasis");
        upload.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(Csv)), "Upload", "liste.csv");
        return await staff.PostAsync($"/admin/import/{newsletterId}", upload);
    }

    private int SpooledUploads() =>
        Directory.Exists(Path.Combine(_app.DataDirectory, "imports")) ? Directory.GetFiles(Path.Combine(_app.DataDirectory, "imports")).Length : 0;

    [Fact]
    public async Task An_upload_without_its_legal_basis_is_refused_with_a_message_and_stores_nothing_C36()
    {
        var newsletter = await _app.NewsletterAsync();
        var editor = await _app.EditorAsync();

        var noText = await UploadAsync(editor, newsletter.Id, LegalBases.ExistingConsent, " ");
        Assert.Equal(HttpStatusCode.BadRequest, noText.StatusCode);
        Assert.Contains("Bitte die Rechtsgrundlage für die einmalige Einladung angeben", WebUtility.HtmlDecode(await noText.Content.ReadAsStringAsync()));

        var noKind = await UploadAsync(editor, newsletter.Id, null, TestImports.LegalBasisText);
        Assert.Equal(HttpStatusCode.BadRequest, noKind.StatusCode);
        Assert.Contains("Bitte die Art der Rechtsgrundlage", WebUtility.HtmlDecode(await noKind.Content.ReadAsStringAsync()));

        var forged = await UploadAsync(editor, newsletter.Id, "because-we-can", TestImports.LegalBasisText);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        Assert.Equal(0, SpooledUploads());
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));

        // In English too.
        var englishEditor = _app.ReaderClient("en");
        await englishEditor.SignInAsync("editor@example.test", "long enough password");
        var english = await UploadAsync(englishEditor, newsletter.Id, LegalBases.ExistingConsent, "");
        Assert.Contains("Please state the legal basis for the one invitation", WebUtility.HtmlDecode(await english.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task An_import_needs_a_migration_end_date_ahead_in_the_UI_and_in_the_service_C16()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.SetMigrationEndAsync(newsletter, null);
        var editor = await _app.EditorAsync();

        var page = WebUtility.HtmlDecode(await editor.GetStringAsync($"/admin/import/{newsletter.Id}"));
        Assert.Contains("kein Ende der Migration festgelegt (Einstellung „Ende der Migration“)", page);
        var refused = await UploadAsync(editor, newsletter.Id, LegalBases.ExistingConsent, TestImports.LegalBasisText);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Ohne Ende der Migration ist kein Import möglich", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal(0, SpooledUploads());

        // The service refuses as well (any other door), a passed end date too; a dry run may go ahead.
        using var scope = _app.Service<IServiceScopeFactory>().CreateScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var summary = await importer.ImportAsync(newsletter.Id, new MemoryStream(Encoding.UTF8.GetBytes(Csv)), "liste.csv", "test", TestImports.Basis);
        Assert.Equal([ImportRefusal.NoMigrationEnd], summary.Refusals);
        await _app.SetMigrationEndAsync(newsletter, DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1)));
        summary = await importer.ImportAsync(newsletter.Id, new MemoryStream(Encoding.UTF8.GetBytes(Csv)), "liste.csv", "test", TestImports.Basis);
        Assert.Equal([ImportRefusal.MigrationEnded], summary.Refusals);
        var dryRun = await importer.ImportAsync(newsletter.Id, new MemoryStream(Encoding.UTF8.GetBytes(Csv)), "liste.csv", "test", null, dryRun: true);
        Assert.Equal(2, dryRun.Imported);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));
    }

    [Fact]
    public async Task The_CSV_export_of_personal_links_needs_a_migration_end_date_ahead_C16_C29()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Beispiel"));
        var admin = await _app.AdminAsync();
        var url = $"/admin/contacts/{newsletter.Id}/export.csv";
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(url)).StatusCode);

        await _app.SetMigrationEndAsync(newsletter, null);
        var refused = await admin.GetAsync(url);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Einstellung „Ende der Migration“", body);
        Assert.DoesNotContain("/i/", body);
        Assert.DoesNotContain("wa.me", body);

        await _app.SetMigrationEndAsync(newsletter, DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1)));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task The_legal_basis_shows_on_the_import_page_the_report_the_funnel_and_the_proof_of_each_invited_reader_C36()
    {
        const string basis = "WhatsApp-Einwilligung eingeholt bis 06.12.2019";
        var newsletter = await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var (preview, report, _) = await admin.ImportThroughUiAsync(newsletter.Id, "liste.csv", Encoding.UTF8.GetBytes(Csv), basis, LegalBases.LegitimateInterest);
        Assert.Contains(basis, WebUtility.HtmlDecode(preview));
        Assert.Contains(basis, WebUtility.HtmlDecode(report));
        Assert.Contains("Berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO)", WebUtility.HtmlDecode(report));
        var batch = await _app.WithDbAsync(db => db.ImportBatches.SingleAsync());
        Assert.Equal((LegalBases.LegitimateInterest, basis), (batch.LegalBasisKind, batch.LegalBasis));

        Assert.Contains(basis, WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/import/{newsletter.Id}")));
        var funnel = WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/funnel/{newsletter.Id}"));
        Assert.Contains($"Rechtsgrundlage: Berechtigtes Interesse (Art. 6 Abs. 1 lit. f DSGVO) – {basis}", funnel);

        // A reader invited from this import: the proof names the import and its legal basis, also after the number is gone.
        var contact = await _app.WithDbAsync(db => db.Contacts.OrderBy(c => c.Id).FirstAsync());
        var invitation = new Uri(_app.Service<Inviting.InvitationLinks>().InvitationUrl(contact)).AbsolutePath;
        await _app.ConfirmedReaderAsync(_app.Smtp, invitation, "anna@example.test");
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Null((await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.Id == contact.Id))).PhoneEncrypted);

        var proof = WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/subscribers/proof/{subscriber.Id}"));
        Assert.Contains("Eingeladen aus Import", proof);
        Assert.Contains($"#{batch.Id} liste.csv", proof);
        Assert.Contains(basis, proof);
        var json = await admin.GetStringAsync($"/admin/subscribers/proof/{subscriber.Id}?handler=Export&format=json");
        using var doc = JsonDocument.Parse(json);
        var import = doc.RootElement.GetProperty("subscribers")[0].GetProperty("imports").EnumerateArray().Single();
        Assert.Equal(basis, import.GetProperty("legalBasis").GetString());
        Assert.Equal(LegalBases.LegitimateInterest, import.GetProperty("legalBasisKind").GetString());
        var csv = await admin.GetStringAsync($"/admin/subscribers/proof/{subscriber.Id}?handler=Export&format=csv");
        Assert.Contains("invitation_legal_basis", csv);
        Assert.Contains(basis, csv);

        // A reader who came through the general page has no import in the proof.
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", "ben@example.test");
        var other = await _app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "ben@example.test"));
        // (The basis itself may stand in the Art. 13 text of the consent-text version shown, C40, so look for the import block.)
        Assert.DoesNotContain("Eingeladen aus Import", WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/subscribers/proof/{other.Id}")));
    }

    [Fact]
    public async Task The_admin_is_reminded_of_the_migration_end_from_14_days_before_and_not_earlier_C16()
    {
        var newsletter = await _app.NewsletterAsync();
        var end = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30));
        await _app.SetMigrationEndAsync(newsletter, end);
        await _app.AdminAsync();
        // A fresh sign-in after each jump of the clock: the cookie's own lifetime is not under test.
        async Task<HttpClient> AdminNowAsync()
        {
            var client = _app.ReaderClient();
            await client.SignInAsync("admin@example.test", "long enough password");
            return client;
        }
        string[] pages = ["/admin", $"/admin/import/{newsletter.Id}", $"/admin/invitations/{newsletter.Id}", $"/admin/whatsapp/{newsletter.Id}"];

        // Either side of the boundary, an hour away from it.
        var endUtc = Berlin.EndOfDayUtc(end);
        void AdvanceUntilLeft(TimeSpan left) => _clock.Advance(endUtc - _clock.GetUtcNow().UtcDateTime - left);
        AdvanceUntilLeft(TimeSpan.FromDays(14) + TimeSpan.FromHours(1));
        var admin = await AdminNowAsync();
        foreach (var page in pages) Assert.DoesNotContain("migration-end-reminder", await admin.GetStringAsync(page));

        AdvanceUntilLeft(TimeSpan.FromDays(14) - TimeSpan.FromHours(1));
        admin = await AdminNowAsync();
        var expected = $"Die Migration von „Tagblatt Eilmeldungen“ endet am {end:dd.MM.yyyy} 23:59";
        foreach (var page in pages)
        {
            var html = WebUtility.HtmlDecode(await admin.GetStringAsync(page));
            Assert.Contains("migration-end-reminder", html);
            Assert.Contains(expected, html);
            Assert.Contains("Telefonnummern und Namen aller Kontakte gelöscht", html);
        }

        _clock.Advance(TimeSpan.FromDays(20)); // passed: no reminder, the refusal instead
        admin = await AdminNowAsync();
        Assert.DoesNotContain("migration-end-reminder", await admin.GetStringAsync("/admin"));
        Assert.Contains("Ende der Migration (Einstellung „Ende der Migration“) ist überschritten",
            WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/import/{newsletter.Id}")));
    }

    [Fact]
    public void The_end_date_moves_while_the_migration_runs_but_is_final_once_passed_and_never_removed_C16()
    {
        var now = new DateTime(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
        Assert.Equal(MigrationEndChange.Allowed, MigrationEnd.CheckChange(null, now.AddDays(30), now));
        Assert.Equal(MigrationEndChange.Allowed, MigrationEnd.CheckChange(now.AddDays(30), now.AddDays(60), now));
        Assert.Equal(MigrationEndChange.Allowed, MigrationEnd.CheckChange(now.AddDays(30), now.AddDays(5), now));
        Assert.Equal(MigrationEndChange.InThePast, MigrationEnd.CheckChange(now.AddDays(30), now.AddDays(-1), now));
        Assert.Equal(MigrationEndChange.Removed, MigrationEnd.CheckChange(now.AddDays(30), null, now));
        Assert.Equal(MigrationEndChange.EndedAlready, MigrationEnd.CheckChange(now.AddDays(-1), now.AddDays(30), now));
        Assert.Equal(MigrationEndChange.Allowed, MigrationEnd.CheckChange(now.AddDays(-1), now.AddDays(-1), now));
    }
}
