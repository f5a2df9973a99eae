using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The import as an editor sees it over HTTP: preview, background job, report, upload limit.</summary>
public sealed class ImportPageTests : IAsyncLifetime
{
    private readonly AppFactory _app = new(settings: new() { ["Import:MaxUploadBytes"] = "20000" });
    private HttpClient _editor = null!;
    private Newsletter _newsletter = null!;

    public async Task InitializeAsync()
    {
        _newsletter = await _app.NewsletterAsync();
        await _app.StaffAsync("editor@example.test", "long enough password", Roles.Editor);
        _editor = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await _editor.SignInAsync("editor@example.test", "long enough password");
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Report_lists_every_skipped_row_and_downloads_as_formula_safe_csv()
    {
        var csv = "Handy;Name\n0160 1111111;Anna\n=HYPERLINK(\"http://x\");Böse\n4,91602E+11;Excel\n030 1234567;Festnetz\n0160 1111111;Anna doppelt\n";
        var (preview, report, batchPath) = await _editor.ImportThroughUiAsync(_newsletter.Id, "liste.csv", Encoding.UTF8.GetBytes(csv));
        Assert.Contains("<option value=\"0\" selected=\"selected\">Handy</option>", preview);
        Assert.Contains("Importiert</dt><dd class=\"col-sm-9\">1<", report);
        Assert.Contains("Doppelt (übersprungen)</dt><dd class=\"col-sm-9\">1<", report);
        Assert.Contains("wissenschaftliche Schreibweise", report);
        Assert.Contains("keine Mobilnummer", report);

        var download = await _editor.GetAsync(batchPath + "?handler=Report");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("text/csv", download.Content.Headers.ContentType!.MediaType);
        var lines = (await download.Content.ReadAsStringAsync()).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Zeile;Grund;Originalwert", lines[0]);
        Assert.Equal("3;enthält Buchstaben;\"'=HYPERLINK(\"\"http://x\"\")\"", lines[1]); // never a live formula
        Assert.Equal("4;von der Tabellenkalkulation beschädigt (wissenschaftliche Schreibweise);4,91602E+11", lines[2]);
        Assert.Equal("5;keine Mobilnummer;030 1234567", lines[3]);
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public async Task A_file_above_the_upload_limit_gets_a_clear_message_and_changes_nothing()
    {
        var page = await _editor.GetStringAsync($"/admin/import/{_newsletter.Id}");
        using var upload = new MultipartFormDataContent
        {
            { new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new ByteArrayContent(new byte[2 * 1024 * 1024]), "Upload", "riesig.csv" },
        };
        var response = await _editor.PostAsync($"/admin/import/{_newsletter.Id}", upload);
        // Refused before the body is read (redirect with a message) or, without Content-Length, by the page itself.
        var shown = response.StatusCode == HttpStatusCode.Redirect
            ? await _editor.GetStringAsync(response.Headers.Location!.OriginalString)
            : await response.Content.ReadAsStringAsync();
        Assert.Contains("Die Datei ist zu groß: höchstens 0 MB sind erlaubt", shown);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
    }

    [Fact]
    public async Task A_broken_file_shows_the_reason_in_the_preview_and_imports_nothing()
    {
        var page = await _editor.GetStringAsync($"/admin/import/{_newsletter.Id}");
        using var upload = new MultipartFormDataContent
        {
            { new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new ByteArrayContent([0x50, 0x4B, 0x03, 0x04, 0x00, 0x01]), "Upload", "liste.xlsx" },
            { new StringContent(NewsletterMigrator.Importing.LegalBases.ExistingConsent), "LegalBasisKind" },
            { new StringContent(TestImports.LegalBasisText), "LegalBasis" },
        };
        var response = await _editor.PostAsync($"/admin/import/{_newsletter.Id}", upload);
        var preview = await _editor.GetStringAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("beschädigt oder kann nicht gelesen werden", preview);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
    }
}
