using System.Net;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Hostile files (issue 13, point 2): zip bombs, endless lines, endless rows and empty files end in a clear
/// message and record nothing, through the importer, the preview page and the opt-out list. Their CPU time
/// and memory are measured in bench/ (verb "hostile"), not here.
/// </summary>
public sealed class HostileFileTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
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

    public static TheoryData<string, string, string> Files() => new()
    {
        { "xlsx: one shared string of 1 GiB", "bombe.xlsx", "Import_UnpackedTooLarge" },
        { "xlsx: 1 GiB of short shared strings", "viele.xlsx", "Import_UnpackedTooLarge" },
        { "zip: one number repeated, 1 GiB", "nummern.zip", "Import_UnpackedTooLarge" },
        { "csv: one line of 3 MB", "zeile.csv", "Import_LineTooLong" },
        { "txt: one line of 3 MB", "zeile.txt", "Import_LineTooLong" },
        { "vcf: one line of 3 MB", "karte.vcf", "Import_LineTooLong" },
        { "csv: a row of 2,000 columns", "spalten.csv", "Import_TooManyColumns" },
        { "xlsx: a row of 2,000 columns", "spalten.xlsx", "Import_TooManyColumns" },
        { "xlsx: a row of 40 cells of 32,767 characters", "breit.xlsx", "Import_LineTooLong" },
        { "xlsx: 100 MB of shared strings within the ratio", "texte.xlsx", "Import_SharedStringsTooLarge" },
        { "csv: empty", "leer.csv", "Import_Empty" },
        { "csv: a header alone", "kopf.csv", "Import_Empty" },
        { "zip: no entry", "leer.zip", "Import_Empty" },
        { "zip: one empty list", "leer-drin.zip", "Import_Empty" },
    };

    internal static byte[] Hostile(string name) => name switch
    {
        "xlsx: one shared string of 1 GiB" => HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB),
        "xlsx: 1 GiB of short shared strings" => HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB, manySmall: true),
        "zip: one number repeated, 1 GiB" => HostileFiles.ZipOfRepeatedNumber(HostileFiles.GiB),
        "csv: one line of 3 MB" or "txt: one line of 3 MB" => Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("0160 1111111;", 240_000))),
        "vcf: one line of 3 MB" => Encoding.UTF8.GetBytes("BEGIN:VCARD\nFN:" + new string('A', 3 << 20) + "\nEND:VCARD\n"),
        "csv: a row of 2,000 columns" => HostileFiles.ManyColumns(2_000),
        "xlsx: a row of 2,000 columns" => ListSamples.Xlsx(("Blatt", [["Telefon"], [.. Enumerable.Repeat<object>("0160 1111111", 2_000)]])),
        // 1.3 M characters in one row: a CSV record stops at 1 M, so must a row of a workbook.
        "xlsx: a row of 40 cells of 32,767 characters" => HostileFiles.XlsxWithWideRows(1, 40, ImportLimits.MaxCellChars),
        // 100 MB of strings of 32,000 characters, padded so the file stays under the compression ratio.
        "xlsx: 100 MB of shared strings within the ratio" => HostileFiles.XlsxWithSharedStrings(100L << 20, manySmall: true, padding: 1_700_000, stringChars: 32_000),
        "csv: empty" => [],
        "csv: a header alone" => Encoding.UTF8.GetBytes("Telefon;Name\n"),
        "zip: no entry" => ListSamples.Zip(),
        "zip: one empty list" => ListSamples.Zip(("liste.csv", [])),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Files))]
    public async Task A_hostile_file_is_refused_with_its_reason_and_records_nothing(string name, string fileName, string reason)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        using var stream = new MemoryStream(Hostile(name));
        var error = await Assert.ThrowsAsync<ImportFormatException>(() =>
            scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, stream, fileName, "test", TestImports.Basis));
        Assert.Equal(reason, error.ReasonKey);
        await AssertNothingRecordedAsync();
    }

    /// <summary>The preview's share: an empty upload never gets there (see the upload test).</summary>
    public static TheoryData<string, string, string> PreviewFiles()
    {
        var files = new TheoryData<string, string, string>();
        foreach (var row in Files().Where(f => (string)f[0] != "csv: empty")) files.Add((string)row[0], (string)row[1], (string)row[2]);
        return files;
    }

    [Fact]
    public async Task The_hostile_builder_makes_valid_files_so_a_refusal_is_about_their_size()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var small = new (string FileName, byte[] Content, int Rows)[]
        {
            ("klein.xlsx", HostileFiles.XlsxWithSharedStrings(1_000), 1),
            ("klein-viele.xlsx", HostileFiles.XlsxWithSharedStrings(1_000, manySmall: true), 1),
            ("klein.zip", HostileFiles.ZipOfRepeatedNumber(1_300), 100),
        };
        foreach (var (fileName, content, rows) in small)
        {
            using var stream = new MemoryStream(content);
            var summary = await importer.ImportAsync(_newsletter.Id, stream, fileName, "test", TestImports.Basis, dryRun: true);
            Assert.Equal(rows, summary.Rows);
        }
    }

    [Theory]
    [MemberData(nameof(PreviewFiles))]
    public async Task The_preview_shows_a_hostile_files_reason_in_german_and_english(string name, string fileName, string reason)
    {
        var preview = await UploadAsync(fileName, Hostile(name));
        var german = await _editor.GetStringAsync(preview);
        Assert.Contains(Expected(reason, "de"), WebUtility.HtmlDecode(german));
        using var english = new HttpRequestMessage(HttpMethod.Get, preview) { Headers = { { "Accept-Language", "en" } } };
        var shown = await (await _editor.SendAsync(english)).Content.ReadAsStringAsync();
        Assert.Contains(Expected(reason, "en"), WebUtility.HtmlDecode(shown));
        Assert.DoesNotContain("Import starten", german); // no way on to an import
        await AssertNothingRecordedAsync();
    }

    private static string Expected(string reason, string language) => (reason, language) switch
    {
        ("Import_UnpackedTooLarge", "de") => "Die Datei wird beim Entpacken mehr als 100-mal so groß wie hochgeladen",
        ("Import_UnpackedTooLarge", _) => "The file unpacks to more than 100 times its uploaded size",
        ("Import_LineTooLong", "de") => "Eine Zeile der Datei ist länger als 1.048.576 Zeichen.",
        ("Import_LineTooLong", _) => "A line of the file is longer than 1,048,576 characters.",
        ("Import_TooManyColumns", "de") => "Eine Zeile der Datei hat mehr als 1.000 Spalten.",
        ("Import_TooManyColumns", _) => "A row of the file has more than 1,000 columns.",
        ("Import_SharedStringsTooLarge", "de") => "Die Texte der Arbeitsmappe (ihre gemeinsamen Zeichenfolgen) belegen mehr als 96 MB.",
        ("Import_SharedStringsTooLarge", _) => "The workbook's texts (its shared strings) take more than 96 MB.",
        ("Import_Empty", "de") => "Die Datei enthält keine Einträge",
        _ => "The file holds no entries",
    };

    /// <summary>
    /// The inflater stops where an entry's header says the entry ends, so a bomb that understates its size is
    /// read only as far as declared; one that states it truly is counted and refused (above).
    /// </summary>
    [Fact]
    public async Task A_zip_bomb_that_understates_its_size_is_read_no_further_than_declared()
    {
        var bomb = HostileFiles.Zip(new HostileFiles.Entry("liste.txt", "", "0160 1111111\n", HostileFiles.GiB) { DeclaredLength = 13 * 100 });
        await using var scope = _app.Services.CreateAsyncScope();
        using var stream = new MemoryStream(bomb);
        var summary = await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, stream, "liste.zip", "test", TestImports.Basis, dryRun: true);
        Assert.Equal((100, 1, 99), (summary.Rows, summary.Imported, summary.Duplicates));
    }

    [Fact]
    public async Task The_preview_shows_long_cells_cut_and_never_echoes_a_whole_line()
    {
        var cell = new string('7', 500_000);
        var preview = await _editor.GetStringAsync(await UploadAsync("lang.csv", Encoding.UTF8.GetBytes($"Telefon;Name\n0160 1111111;{cell}\n")));
        Assert.Contains(new string('7', ImportLimits.PreviewCellChars) + "…", preview);
        Assert.DoesNotContain(new string('7', ImportLimits.PreviewCellChars + 1), preview);
        Assert.True(preview.Length < 100_000, $"the preview page has {preview.Length:N0} characters");
    }

    [Fact]
    public async Task The_preview_shows_long_workbook_cells_cut()
    {
        var shared = await _editor.GetStringAsync(await UploadAsync("lang.xlsx", ListSamples.Xlsx(("Liste", [["Telefon", "Name"], ["0160 1111111", new string('7', 500)]]))));
        var inline = await _editor.GetStringAsync(await UploadAsync("inline.xlsx", HostileFiles.XlsxWithWideRows(2, 2, 500)));
        foreach (var preview in new[] { shared, inline })
        {
            Assert.Contains(new string('7', ImportLimits.PreviewCellChars) + "…", preview);
            Assert.DoesNotContain(new string('7', ImportLimits.PreviewCellChars + 1), preview);
        }
    }

    /// <summary>Each new ?sheet= value once wrote a kept preview and read the workbook again.</summary>
    [Fact]
    public async Task A_sheet_the_workbook_does_not_have_shows_the_first_one_and_keeps_nothing()
    {
        var xlsx = ListSamples.Xlsx(("Liste", [["Telefon", "Name"], ["0160 1111111", "Anna"]]), ("Andere", [["Telefon", "Name"], ["0171 2222222", "Ben"]]));
        var previewPath = await UploadAsync("liste.xlsx", xlsx);
        Assert.Contains("<td>Anna</td>", await _editor.GetStringAsync(previewPath));
        var spool = _app.Service<ImportSpool>();
        int Kept() => Directory.EnumerateFiles(spool.Folder, "*.preview-*").Count();
        Assert.Equal(1, Kept());
        for (var i = 0; i < 3; i++)
        {
            var page = await _editor.GetStringAsync($"{previewPath}?sheet=Gibt-es-nicht-{i}");
            Assert.Contains("<td>Anna</td>", page);
        }
        Assert.Equal(1, Kept());
        Assert.Contains("<td>Ben</td>", await _editor.GetStringAsync($"{previewPath}?sheet=Andere"));
        Assert.Equal(2, Kept());
    }

    [Fact]
    public void Sheet_names_are_cut_to_excels_31_characters_and_too_many_sheets_are_refused()
    {
        var longName = new string('B', 40);
        using (var stream = new MemoryStream(ListSamples.Xlsx(("Liste", [["Telefon"], ["0160 1111111"]]), (longName, [["Telefon"], ["0171 2222222"]]))))
            Assert.Equal(["Liste", longName[..ImportLimits.MaxSheetNameChars]], ListReader.Preview(stream, "liste.xlsx").Sheets);
        Assert.Equal(31, ImportLimits.MaxSheetNameChars);

        var sheets = Enumerable.Range(0, ImportLimits.MaxSheets + 1).Select(i => ($"Blatt {i}", new object[][] { ["Telefon"], ["0160 1111111"] })).ToArray();
        using var many = new MemoryStream(ListSamples.Xlsx(sheets));
        Assert.Equal("Import_Unreadable", Assert.Throws<ImportFormatException>(() => ListReader.Preview(many, "liste.xlsx")).ReasonKey);
        using var enough = new MemoryStream(ListSamples.Xlsx(sheets[..ImportLimits.MaxSheets]));
        Assert.Equal(ImportLimits.MaxSheets, ListReader.Preview(enough, "liste.xlsx").Sheets.Count);
    }

    [Fact]
    public async Task A_zip_is_unpacked_once_per_upload_for_every_preview_and_the_import()
    {
        var zip = ListSamples.Zip(("export/liste.csv", Encoding.UTF8.GetBytes("Telefon;Name\n0160 1111111;Anna\n0171 2222222;Ben\n")));
        var previewPath = await UploadAsync("export.zip", zip);
        var first = await _editor.GetStringAsync(previewPath);
        Assert.Contains("<td>Anna</td>", first);

        // From now on the ZIP is not read again: with its bytes gone, the preview and the import still work.
        var spool = _app.Service<ImportSpool>();
        var upload = Directory.EnumerateFiles(spool.Folder, "*.upload").Single();
        await File.WriteAllBytesAsync(upload, [0x50, 0x4B, 0x03, 0x04, 0xFF]);
        var again = await _editor.GetStringAsync(previewPath);
        Assert.Equal(Table(first), Table(again));
        var response = await _editor.PostFormAsync(previewPath, again, new() { ["PhoneColumn"] = "0", ["NameColumn"] = "1", ["HasHeader"] = "true" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var report = await _editor.WaitForImportAsync(response.Headers.Location!.OriginalString);
        Assert.Contains("Importiert</dt><dd class=\"col-sm-9\">2<", report);
        // The worker removes the upload, its list and its previews right after it reports the import done.
        // A positive wait, generous for a loaded CI machine: it ends as soon as the folder is empty.
        for (var i = 0; i < 600 && Directory.EnumerateFiles(spool.Folder).Any(); i++) await Task.Delay(50);
        Assert.Empty(Directory.EnumerateFiles(spool.Folder));
    }

    [Fact]
    public async Task An_empty_file_is_refused_on_upload_with_its_own_message()
    {
        var page = await _editor.GetStringAsync($"/admin/import/{_newsletter.Id}");
        using var upload = new MultipartFormDataContent
        {
            { new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new ByteArrayContent([]), "Upload", "leer.csv" },
            { new StringContent(LegalBases.ExistingConsent), "LegalBasisKind" },
            { new StringContent(TestImports.LegalBasisText), "LegalBasis" },
        };
        var response = await _editor.PostAsync($"/admin/import/{_newsletter.Id}", upload);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Die Datei enthält keine Einträge", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.Empty(Directory.Exists(_app.Service<ImportSpool>().Folder) ? Directory.EnumerateFiles(_app.Service<ImportSpool>().Folder) : []);
    }

    [Fact]
    public async Task An_opt_out_list_that_is_empty_or_hostile_is_refused_and_suppresses_nothing()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var optOuts = scope.ServiceProvider.GetRequiredService<Subscribers.OptOutListImport>();
        foreach (var (name, fileName, reason) in new[] { ("csv: empty", "leer.csv", "Import_Empty"), ("zip: one number repeated, 1 GiB", "nummern.zip", "Import_UnpackedTooLarge") })
        {
            using var stream = new MemoryStream(Hostile(name));
            var error = await Assert.ThrowsAsync<ImportFormatException>(() => optOuts.ImportAsync(stream, fileName, "DE", "test"));
            Assert.Equal(reason, error.ReasonKey);
        }
        Assert.Equal(0, await _app.WithDbAsync(db => db.Suppressions.CountAsync()));
    }

    private async Task<string> UploadAsync(string fileName, byte[] content)
    {
        var page = await _editor.GetStringAsync($"/admin/import/{_newsletter.Id}");
        using var upload = new MultipartFormDataContent
        {
            { new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken" },
            { new ByteArrayContent(content), "Upload", fileName },
            { new StringContent(LegalBases.ExistingConsent), "LegalBasisKind" },
            { new StringContent(TestImports.LegalBasisText), "LegalBasis" },
        };
        var response = await _editor.PostAsync($"/admin/import/{_newsletter.Id}", upload);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!.OriginalString;
    }

    private static string Table(string page) => page[page.IndexOf("<table", StringComparison.Ordinal)..page.IndexOf("</table>", StringComparison.Ordinal)];

    private async Task AssertNothingRecordedAsync()
    {
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportIssues.CountAsync()));
    }
}
