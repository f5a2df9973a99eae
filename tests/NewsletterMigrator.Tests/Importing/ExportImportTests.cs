using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Each export with several numbers per entry, imported into a real SQLite file: which number became the contact, and what the row report says.</summary>
public sealed class ExportImportTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;

    public async Task InitializeAsync() => _newsletter = await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<ImportSummary> ImportAsync(string fixture, bool dryRun = false)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        await using var file = File.OpenRead(Path.Combine(FixtureImportTests.FixtureFolder(), fixture));
        return await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, file, fixture, "test", TestImports.Basis, dryRun: dryRun);
    }

    private Task<Dictionary<string, string>> ContactsByNameAsync() => _app.WithDbAsync(async db =>
    {
        var phones = _app.Service<PhoneProtector>();
        return (await db.Contacts.Where(c => c.NewsletterId == _newsletter.Id).ToListAsync()).ToDictionary(c => c.DisplayName!, c => phones.Decrypt(c.PhoneEncrypted!));
    });

    private Task<List<(int Line, string Reason, string Value)>> ReportAsync(ImportSummary summary) => _app.WithDbAsync(async db =>
        (await db.ImportIssues.Where(i => i.ImportBatchId == summary.BatchId).OrderBy(i => i.Line).ThenBy(i => i.Id).ToListAsync())
            .Select(i => (i.Line, i.Reason, i.OriginalValue)).ToList());

    [Fact]
    public async Task Google_csv_takes_the_mobile_from_phone_2_and_reports_the_landline_and_the_row_without_a_mobile()
    {
        var summary = await ImportAsync("google-contacts.csv");
        var contacts = await ContactsByNameAsync();
        Assert.Equal("+4915110000002", contacts["Bernd Brandt"]);
        Assert.Equal("+4916010000008", contacts["Hanna Horn"]); // a mobile number in a "Work" field
        Assert.Equal("+4917110000011", contacts["Jonas Jung"]); // "0171 … / 030 …" in one cell
        var report = await ReportAsync(summary);
        Assert.Contains((3, InvalidReason.Landline, "030 1234567 (Phone 1 - Value (Home))"), report);
        Assert.Contains((5, PhoneChoice.OtherMobile, "+49 152 10000005 (Phone 1 - Value (Mobile))"), report);
        Assert.Contains((6, InvalidReason.NotMobile, "+49 30 2345678"), report);
        Assert.Contains((7, PhoneChoice.NoMobileNumber, "030 3456789 / 040 4567890"), report);
        Assert.Contains((7, InvalidReason.Landline, "040 4567890 (Phone 2 - Value (Work))"), report);
        Assert.Contains((12, InvalidReason.Landline, "030 6789012 (Phone 1 - Value (Mobile))"), report);
        Assert.Contains((13, PhoneChoice.OtherInvalid, "bitte erfragen (Phone 1 - Value (Other))"), report);
        Assert.DoesNotContain(report, r => r.Line == 10); // the same number twice is one number
        Assert.Equal(1, summary.Reasons[PhoneChoice.NoMobileNumber]);
    }

    [Fact]
    public async Task A_dry_run_counts_an_export_as_the_import_does()
    {
        var dry = await ImportAsync("google-contacts.csv", dryRun: true);
        var real = await ImportAsync("google-contacts.csv");
        Assert.Equal((dry.Rows, dry.Imported, dry.Duplicates, dry.Invalid), (real.Rows, real.Imported, real.Duplicates, real.Invalid));
        Assert.Equal(dry.Reasons.OrderBy(r => r.Key), real.Reasons.OrderBy(r => r.Key));
    }

    [Fact]
    public async Task Outlook_takes_a_mobile_number_from_home_phone_and_reports_an_entry_with_landlines_only()
    {
        var summary = await ImportAsync("outlook-en.csv");
        var contacts = await ContactsByNameAsync();
        Assert.Equal(("+4916030000002", "+4916230000003"), (contacts["Rita Roth"], contacts["Sven Stein"]));
        var report = await ReportAsync(summary);
        Assert.Contains((3, InvalidReason.Landline, "+49 30 1234567 (Business Phone)"), report);
        Assert.Contains((7, PhoneChoice.NoMobileNumber, "030 1234567 / 030 7654321"), report);
    }

    [Fact]
    public async Task German_outlook_reads_mobiltelefon_and_telefon_privat_with_umlauts_in_windows_1252()
    {
        var summary = await ImportAsync("outlook-de-cp1252.csv");
        var contacts = await ContactsByNameAsync();
        Assert.Equal("+4917340000003", contacts["Hörst Öztürk"]);
        Assert.Equal("+4917140000002", contacts["Grete Groß"]);
        var report = await ReportAsync(summary);
        Assert.Contains((4, InvalidReason.Landline, "0221 7654321 (Telefon geschäftlich)"), report);
        Assert.Contains((6, PhoneChoice.OtherMobile, "0175 40000005 (Mobiltelefon 2)"), report);
    }

    [Fact]
    public async Task IPhone_cards_take_the_number_labelled_mobile_in_its_item_group()
    {
        var summary = await ImportAsync("iphone-3.0.vcf");
        var contacts = await ContactsByNameAsync();
        // item2.X-ABLabel:_$!<Mobile>!$_ stands before item2.TEL; item1 is labelled "Büro".
        Assert.Equal("+491726000002", contacts["David Brenner"]);
        // Both mobile: the one in the item group labelled Mobile is no better than TYPE=CELL, so the first is taken.
        Assert.Equal("+491746000004", contacts["Greta Ebert"]);
        Assert.Equal("+4917660000006", contacts["Hugo Falk"]); // a custom label ("Oma") on a mobile number
        var report = await ReportAsync(summary);
        Assert.Contains((10, InvalidReason.Landline, "030 7654321 (item1.TEL;type=pref (X-ABLabel: Büro))"), report);
        Assert.Contains(report, r => r.Reason == PhoneChoice.NoMobileNumber && r.Value == "030 1111111 / 040 2222222");
    }

    [Fact]
    public async Task Android_cards_decode_quoted_printable_names_and_take_a_mobile_saved_as_home()
    {
        await ImportAsync("android-2.1.vcf");
        var contacts = await ContactsByNameAsync();
        Assert.Equal("+4917770000001", contacts["Jürgen Müller-Lüdenscheid (Vorstand Sportverein Grün-Weiß)"]);
        Assert.Equal("+491787000002", contacts["Anke Becker"]);
        Assert.Equal("+491797000003", contacts["Ayşe Özdemir"]);
    }

    [Fact]
    public async Task A_whatsapp_business_list_reads_wa_me_links()
    {
        var summary = await ImportAsync("whatsapp-business.csv");
        var contacts = await ContactsByNameAsync();
        Assert.Equal(("+4917650000002", "+4917750000006"), (contacts["Xaver Xander"], contacts["Adam Abel"]));
        Assert.DoesNotContain(await ReportAsync(summary), r => r.Line == 2); // number and link are the same number
    }

    [Fact]
    public async Task The_preview_shows_the_phone_columns_and_why_and_the_import_uses_them_all()
    {
        await _app.StaffAsync("editor@example.test", "long enough password", Roles.Editor);
        var editor = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await editor.SignInAsync("editor@example.test", "long enough password");
        var content = await File.ReadAllBytesAsync(Path.Combine(FixtureImportTests.FixtureFolder(), "google-contacts.csv"));

        var (preview, report, _) = await editor.ImportThroughUiAsync(_newsletter.Id, "google-contacts.csv", content);
        Assert.Contains("Telefonnummern aus: Phone 1 - Value (Typ aus Phone 1 - Type), Phone 2 - Value (Typ aus Phone 2 - Type), Phone 3 - Value (Typ aus Phone 3 - Type)"
            + " – je Zeile wird die Mobilnummer genommen", WebUtility.HtmlDecode(preview));
        Assert.Contains($"<option value=\"{ImportMapping.AllPhoneColumns}\" selected=\"selected\">", preview);
        // The form said "all of them": the background import read every phone column, as the CLI would.
        Assert.Contains("Importiert</dt><dd class=\"col-sm-9\">8<", report);
        Assert.Contains("mehrere Nummern, keine davon eine Mobilnummer", WebUtility.HtmlDecode(report));
        Assert.Contains("030 1234567 (Phone 1 - Value (Home))", WebUtility.HtmlDecode(report));
    }

    [Fact]
    public async Task The_editor_may_still_pick_a_single_phone_column()
    {
        await _app.StaffAsync("editor@example.test", "long enough password", Roles.Editor);
        var editor = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await editor.SignInAsync("editor@example.test", "long enough password");
        var content = await File.ReadAllBytesAsync(Path.Combine(FixtureImportTests.FixtureFolder(), "outlook-en.csv"));
        var importPage = await editor.GetStringAsync($"/admin/import/{_newsletter.Id}");
        using var upload = new MultipartFormDataContent
        {
            { new StringContent(Html.AntiforgeryToken(importPage)), "__RequestVerificationToken" },
            { new StringContent(TestImports.LegalBasisText), "LegalBasis" },
            { new StringContent(LegalBases.ExistingConsent), "LegalBasisKind" },
            { new ByteArrayContent(content), "Upload", "outlook-en.csv" },
        };
        var previewPath = (await editor.PostAsync($"/admin/import/{_newsletter.Id}", upload)).Headers.Location!.OriginalString;
        var preview = await editor.GetStringAsync(previewPath);
        var mobile = File.ReadLines(Path.Combine(FixtureImportTests.FixtureFolder(), "outlook-en.csv")).First().Split(',').Select(h => h.Trim('"')).ToList().IndexOf("Mobile Phone");
        Assert.Contains($"<option value=\"{mobile}\">Mobile Phone</option>", preview);
        var response = await editor.PostFormAsync(previewPath, preview, new() { ["PhoneColumn"] = $"{mobile}", ["HasHeader"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var report = await editor.WaitForImportAsync(response.Headers.Location!.OriginalString);
        // Only "Mobile Phone": Sven's mobile number in "Home Phone" is not read, and no landline is noted.
        Assert.Contains("Importiert</dt><dd class=\"col-sm-9\">2<", report);
        Assert.DoesNotContain("(Business Phone)", report);
    }
}
