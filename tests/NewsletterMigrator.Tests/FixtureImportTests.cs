using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>Each messy sample list of the design pack (copied to Fixtures/) imports with exactly the counts in its expected.json.</summary>
public sealed class FixtureImportTests
{
    /// <summary>Every fixture on every provider: the duplicates and the report rows are the bulk SQL's work (IBulkSql).</summary>
    public static TheoryData<DatabaseProvider, string> Fixtures()
    {
        var data = new TheoryData<DatabaseProvider, string>();
        foreach (var provider in Enum.GetValues<DatabaseProvider>())
            foreach (var file in Expected().Keys) data.Add(provider, file);
        return data;
    }

    [ProviderTheory]
    [MemberData(nameof(Fixtures))]
    public async Task Fixture_imports_with_the_expected_counts(DatabaseProvider database, string file)
    {
        var expected = Expected()[file];
        await using var app = new AppFactory(provider: database);
        await using var scope = app.Services.CreateAsyncScope();
        var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(
            new Newsletter { Slug = "fixture", Name = "Fixture", SenderName = "Fixture", SenderAddress = "news@example.test", MigrationEndsAtUtc = TestImports.MigrationEndUtc }.Complete(), "test");

        await using var stream = File.OpenRead(Path.Combine(FixtureFolder(), file));
        var summary = await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, stream, file, "test", TestImports.Basis);

        Assert.Equal(expected.GetProperty("rows").GetInt32(), summary.Rows);
        Assert.Equal(expected.GetProperty("imported").GetInt32(), summary.Imported);
        Assert.Equal(expected.GetProperty("duplicates").GetInt32(), summary.Duplicates);
        Assert.Equal(expected.GetProperty("invalid").GetInt32(), summary.Invalid);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.Equal(summary.Imported, await db.Contacts.CountAsync(c => c.NewsletterId == newsletter.Id));
        // Notes on further numbers of an imported entry are report rows, not invalid rows.
        var notes = PhoneChoice.NoteReasons;
        Assert.Equal(summary.Invalid, await db.ImportIssues.CountAsync(i => i.ImportBatchId == summary.BatchId && !notes.Contains(i.Reason)));

        // Importing the same file twice changes nothing the second time.
        await using var again = File.OpenRead(Path.Combine(FixtureFolder(), file));
        var second = await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, again, file, "test", TestImports.Basis);
        Assert.Equal(0, second.Imported);
        Assert.Equal(summary.Imported + summary.Duplicates, second.Duplicates);
    }

    private static Dictionary<string, JsonElement> Expected() =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(FixtureFolder(), "expected.json")))!;

    /// <summary>
    /// The design pack's sample lists (shared/fixtures), copied into the repository so that a fresh clone with
    /// nothing beside it passes; refresh them from there when the design pack changes.
    /// </summary>
    internal static string FixtureFolder() => Path.Combine(AppContext.BaseDirectory, "Fixtures");
}
