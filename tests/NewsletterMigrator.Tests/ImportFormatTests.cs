using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Every accepted shape of list, read through the real importer into a real SQLite file.</summary>
public sealed class ImportFormatTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;

    public async Task InitializeAsync() => _newsletter = await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<ImportSummary> ImportAsync(byte[] content, string fileName, bool dryRun = false)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        using var stream = new MemoryStream(content);
        return await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, stream, fileName, "test", TestImports.Basis, dryRun: dryRun);
    }

    private Task<List<(string Phone, string? Name)>> ContactsAsync() => _app.WithDbAsync(async db =>
    {
        var phones = _app.Service<PhoneProtector>();
        return (await db.Contacts.Where(c => c.NewsletterId == _newsletter.Id).ToListAsync())
            .Select(c => (phones.Decrypt(c.PhoneEncrypted!), c.DisplayName)).OrderBy(c => c.Item1).ToList();
    });

    [Theory]
    [InlineData(',')]
    [InlineData(';')]
    [InlineData('\t')]
    [InlineData('|')]
    public async Task Csv_separator_is_detected_and_quoted_fields_keep_separators_and_line_breaks(char separator)
    {
        var s = separator;
        var csv = $"Name{s}Handy\r\n\"Muster{s} Anna\"{s}0160 1111111\r\n\"Zwei\nZeilen\"{s}+49 171 2222222\r\nBen{s}0175/3333333\r\n";
        var summary = await ImportAsync(ListSamples.Csv(csv), "liste.csv");
        Assert.Equal((3, 3, 0), (summary.Rows, summary.Imported, summary.Invalid));
        var contacts = await ContactsAsync();
        Assert.Equal([("+491601111111", $"Muster{s} Anna"), ("+491712222222", "Zwei\nZeilen"), ("+491753333333", "Ben")], contacts);
    }

    [Fact]
    public async Task Utf16_with_bom_and_windows_1252_are_detected()
    {
        var utf16 = await ImportAsync(ListSamples.Csv("Telefon;Name\r\n0160 1111111;Jürgen Größe\r\n", Encoding.Unicode), "a.csv");
        Assert.Equal(1, utf16.Imported);
        var cp1252 = ListSamples.Csv("Telefon;Name\n0171 2222222;Jürgen Weiß\n", TextDecoding.Windows1252);
        Assert.DoesNotContain((byte)0xC3, cp1252); // really not UTF-8
        Assert.Equal(1, (await ImportAsync(cp1252, "b.csv")).Imported);
        var names = (await ContactsAsync()).Select(c => c.Name).ToList();
        Assert.Equal(["Jürgen Größe", "Jürgen Weiß"], names);
    }

    [Fact]
    public async Task Plain_text_skips_comments_and_blank_lines_and_reports_line_numbers()
    {
        var summary = await ImportAsync(Encoding.UTF8.GetBytes("# Export vom 1.1.\n0160 1111111\n\n0160-ABC-DEFG\n'0171 2222222\n"), "numbers.txt");
        Assert.Equal((3, 2, 1), (summary.Rows, summary.Imported, summary.Invalid));
        var issue = await _app.WithDbAsync(db => db.ImportIssues.SingleAsync(i => i.ImportBatchId == summary.BatchId));
        Assert.Equal((4, InvalidReason.Letters, "0160-ABC-DEFG"), (issue.Line, issue.Reason, issue.OriginalValue));
    }

    [Fact]
    public async Task VCards_21_30_40_import_mobiles_and_report_landlines()
    {
        var summary = await ImportAsync(Encoding.UTF8.GetBytes(ListSamples.VCards), "kontakte.vcf");
        Assert.Equal((3, 3, 0), (summary.Rows, summary.Imported, summary.Invalid));
        Assert.Equal([("+491601111111", "Jürgen Müller"), ("+491712222222", "Anna Beispiel"), ("+491753333333", "Ben")], await ContactsAsync());
        var landline = await _app.WithDbAsync(db => db.ImportIssues.SingleAsync(i => i.ImportBatchId == summary.BatchId));
        Assert.Equal((InvalidReason.Landline, "+49 30 1234567 (TEL;TYPE=WORK,VOICE)"), (landline.Reason, landline.OriginalValue));
    }

    [Fact]
    public async Task Xlsx_first_sheet_by_default_numbers_as_doubles_and_scientific_damage()
    {
        var xlsx = ListSamples.Xlsx(
            ("Kontakte", [["Mobilnummer", "Vorname", "Nachname"], [491601111111d, "Anna", "Muster"], [1712222222d, "Ben", "B"], ["4,91602E+11", "Kaputt", "K"]]),
            ("Andere", [["Telefon"], ["0175 3333333"]]));
        var summary = await ImportAsync(xlsx, "liste.xlsx");
        Assert.Equal((3, 2, 1), (summary.Rows, summary.Imported, summary.Invalid));
        Assert.Equal(1, summary.Reasons[InvalidReason.ScientificNotation]);
        Assert.Equal([("+491601111111", "Anna Muster"), ("+491712222222", "Ben B")], await ContactsAsync());

        // The editor may pick another sheet.
        await using var scope = _app.Services.CreateAsyncScope();
        using var stream = new MemoryStream(xlsx);
        var preview = ListReader.Preview(stream, "liste.xlsx", "Andere");
        Assert.Equal(["Kontakte", "Andere"], preview.Sheets);
        Assert.Equal(new ImportMapping(0, -1, -1, -1, true, "Andere"), preview.Mapping);
        stream.Position = 0;
        var other = await scope.ServiceProvider.GetRequiredService<ContactImporter>().RunAsync(0, _newsletter.Id, stream, "liste.xlsx", "test", preview.Mapping, null, default);
        Assert.Equal((1, 1), (other.Rows, other.Imported));
    }

    [Fact]
    public async Task Zip_with_one_list_is_read_and_zip_with_two_is_refused()
    {
        var zip = ListSamples.Zip(("export/liste.csv", ListSamples.Csv("Telefon\n0160 1111111\n0171 2222222\n")));
        Assert.Equal(2, (await ImportAsync(zip, "export.zip")).Imported);
        var two = ListSamples.Zip(("a.csv", [1]), ("b.csv", [2]));
        var error = await Assert.ThrowsAsync<ImportFormatException>(() => ImportAsync(two, "export.zip"));
        Assert.Equal("Import_ZipNotOneFile", error.ReasonKey);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync(b => b.Status != ImportStatus.Completed)));
    }

    [Fact]
    public async Task Column_mapping_chosen_by_the_editor_overrides_the_detected_one()
    {
        var csv = ListSamples.Csv("Festnetz;Handy\n030 1234567;0160 1111111\n");
        using var stream = new MemoryStream(csv);
        var preview = ListReader.Preview(stream, "liste.csv");
        Assert.Equal(["Festnetz", "Handy"], preview.Headers);
        Assert.Equal(1, preview.Mapping!.PhoneColumn); // "Handy" is recognised
        await using var scope = _app.Services.CreateAsyncScope();
        stream.Position = 0;
        var chosen = await scope.ServiceProvider.GetRequiredService<ContactImporter>().RunAsync(0, _newsletter.Id, stream, "liste.csv", "test", preview.Mapping with { PhoneColumn = 0 }, null, default);
        Assert.Equal(1, chosen.Reasons[InvalidReason.NotMobile]);
    }

    [Fact]
    public async Task Suppressed_numbers_are_never_imported_again()
    {
        await _app.WithDbAsync(async db =>
        {
            db.Suppressions.Add(new Suppression { Kind = SuppressionKind.Phone, Hash = _app.Service<PhoneProtector>().Hmac("+491601111111"), Reason = "erased" });
            return await db.SaveChangesAsync();
        });
        var summary = await ImportAsync(Encoding.UTF8.GetBytes("0160 1111111\n0171 2222222\n"), "n.txt");
        Assert.Equal((1, 1), (summary.Imported, summary.Reasons[InvalidReason.Suppressed]));
        Assert.Equal(["+491712222222"], (await ContactsAsync()).Select(c => c.Phone));
    }

    [Fact]
    public async Task Dry_run_counts_but_stores_nothing()
    {
        var summary = await ImportAsync(Encoding.UTF8.GetBytes("0160 1111111\n0160 1111111\nabc\n"), "n.txt", dryRun: true);
        Assert.Equal((3, 1, 1, 1), (summary.Rows, summary.Imported, summary.Duplicates, summary.Invalid));
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
        Assert.Empty(await ContactsAsync());
    }

    [Theory]
    [InlineData("liste.xlsx", "Import_Unreadable")]
    [InlineData("liste.xls", "Import_UnsupportedFormat")]
    [InlineData("liste.csv", "Import_Binary")]
    public async Task Broken_files_end_in_a_reason_for_the_editor(string fileName, string reason)
    {
        var error = await Assert.ThrowsAsync<ImportFormatException>(() => ImportAsync([0x50, 0x00, 0x01, 0x02, 0xFF], fileName));
        Assert.Equal(reason, error.ReasonKey);
        Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync()));
    }

    [Theory]
    [InlineData("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")")]
    [InlineData("+491601111111", "'+491601111111")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tx", "'\tx")]
    [InlineData("Anna", "Anna")]
    public void Csv_writer_neutralises_formulas(string value, string expected)
    {
        var escaped = SafeCsvWriter.Escape(value, ',');
        var unquoted = escaped.StartsWith('"') ? escaped[1..^1].Replace("\"\"", "\"") : escaped;
        Assert.Equal(expected, unquoted);
    }
}
