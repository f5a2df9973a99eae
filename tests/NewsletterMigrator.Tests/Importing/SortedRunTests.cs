using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// On SQLite a list's numbers are entered into ContactPhones in sorted runs after its contacts (<see cref="SqliteContactWriter"/>):
/// a duplicate is then found in the same run, in an earlier run of the same list, or among the numbers the newsletter had
/// before, and each time the first row of the number is the contact that stays.
/// </summary>
public sealed class SortedRunTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;

    public async Task InitializeAsync() => _newsletter = await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_number_twice_in_a_long_list_stays_with_its_first_row_whether_in_the_same_run_or_an_earlier_one()
    {
        // Two runs: the first full one, and the rest of the list, which repeats a number of each run.
        var distinct = SqliteContactWriter.RunSize + 2_000;
        var list = new StringBuilder("Telefon;Name\n");
        for (var i = 0; i < distinct; i++) list.Append(Number(i)).Append(";Leser ").Append(i).Append('\n');
        list.Append(Number(0)).Append(";Doppelt aus dem ersten Lauf\n");
        list.Append(Number(distinct - 1)).Append(";Doppelt im selben Lauf\n");

        var summary = await ImportAsync(list.ToString());

        Assert.Equal((distinct + 2, distinct, 2, 0), (summary.Rows, summary.Imported, summary.Duplicates, summary.Invalid));
        var (contacts, numbers, doubles) = await _app.WithDbAsync(async db => (
            await db.Contacts.CountAsync(c => c.NewsletterId == _newsletter.Id),
            await db.ContactPhones.CountAsync(p => p.NewsletterId == _newsletter.Id),
            await db.Contacts.CountAsync(c => c.DisplayName!.StartsWith("Doppelt"))));
        Assert.Equal((distinct, distinct, 0), (contacts, numbers, doubles));
        var batch = await _app.WithDbAsync(db => db.ImportBatches.SingleAsync(b => b.Id == summary.BatchId));
        Assert.Equal((distinct, 2), (batch.Imported, batch.Duplicates)); // what the import's page shows

        // The same numbers again: known before the import began, so each is a duplicate at once and nothing changes.
        var again = await ImportAsync("Telefon;Name\n" + Number(0) + ";Noch einmal\n" + Number(distinct - 1) + ";Noch einmal\n" + Number(distinct) + ";Neu\n");
        Assert.Equal((3, 1, 2), (again.Rows, again.Imported, again.Duplicates));
        Assert.Equal(0, await _app.WithDbAsync(db => db.Contacts.CountAsync(c => c.DisplayName == "Noch einmal")));
    }

    private static string Number(int i) => $"+49151{i:D8}";

    private async Task<ImportSummary> ImportAsync(string csv)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        await using var file = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        return await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, file, "liste.csv", "test", TestImports.Basis);
    }
}
