using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>All or nothing: damaged bytes, cancellation and failures half-way leave no contacts behind.</summary>
public sealed class ImportRobustnessTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;

    public async Task InitializeAsync() => _newsletter = await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static TheoryData<string> Formats() => new() { "liste.csv", "liste.xlsx", "kontakte.vcf", "numbers.txt", "export.zip" };

    private static byte[] Sample(string fileName)
    {
        var csv = ListSamples.Csv("Telefon;Name\r\n0160 1111111;\"Anna; Muster\"\r\n0171 2222222;Ben\r\n030 1234567;Festnetz\r\n");
        return fileName switch
        {
            "liste.xlsx" => ListSamples.Xlsx(("Blatt", [["Handy", "Name"], [491601111111d, "Anna"], ["0171 2222222", "Ben"]])),
            "kontakte.vcf" => Encoding.UTF8.GetBytes(ListSamples.VCards),
            "numbers.txt" => Encoding.UTF8.GetBytes("# Liste\n0160 1111111\n0171 2222222\n"),
            "export.zip" => ListSamples.Zip(("liste.csv", csv)),
            _ => csv,
        };
    }

    /// <summary>Random, truncated and bit-flipped bytes (fixed seed, bounded count): a clean error or a valid report, never a partial import.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Damaged_bytes_give_a_clean_error_or_a_valid_report_never_a_partial_import(string fileName)
    {
        var random = new Random(fileName.Length * 7919);
        var original = Sample(fileName);
        for (var i = 0; i < 40; i++)
        {
            var bytes = (i % 4) switch
            {
                0 => original[..random.Next(original.Length)], // truncated
                1 => Flip(original, random, 1 + random.Next(8)), // bit-flipped
                2 => RandomBytes(random, random.Next(1, 4096)), // random
                _ => Flip(original[..random.Next(1, original.Length)], random, 1),
            };
            var contactsBefore = await CountAllContactsAsync(_app);
            await using var scope = _app.Services.CreateAsyncScope();
            using var stream = new MemoryStream(bytes);
            try
            {
                var summary = await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(_newsletter.Id, stream, fileName, "fuzz", TestImports.Basis);
                Assert.Equal(summary.Rows, summary.Imported + summary.Duplicates + summary.Invalid);
                Assert.Equal(contactsBefore + summary.Imported, await CountAllContactsAsync(_app));
            }
            catch (ImportFormatException ex)
            {
                Assert.StartsWith("Import_", ex.ReasonKey);
                Assert.Equal(contactsBefore, await CountAllContactsAsync(_app));
            }
            Assert.Equal(0, await _app.WithDbAsync(db => db.ImportBatches.CountAsync(b => b.Status != ImportStatus.Completed)));
        }
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Cancelled_half_way_leaves_no_contacts_and_no_batch(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var list = LargeList(3 * ContactImporter.ChunkSize);
        using var cancel = new CancellationTokenSource();
        // A real stream that cancels once more than half of the file has been read.
        using var stream = new TripwireStream(list, list.Length / 2, cancel.Cancel);
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => importer.ImportAsync(newsletter.Id, stream, "gross.txt", "test", TestImports.Basis, cancellationToken: cancel.Token));
        Assert.True(stream.Tripped);
        Assert.Equal(0, await CountAllContactsAsync(app));
        Assert.Equal(0, await app.WithDbAsync(db => db.ImportBatches.CountAsync()));
        Assert.Equal(0, await app.WithDbAsync(db => db.ImportIssues.CountAsync()));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_read_failure_half_way_leaves_no_contacts_and_no_batch(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var list = LargeList(3 * ContactImporter.ChunkSize);
        using var stream = new TripwireStream(list, list.Length / 2, () => throw new IOException("disk gone"));
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var error = await Assert.ThrowsAsync<ImportFormatException>(() => importer.ImportAsync(newsletter.Id, stream, "gross.txt", "test", TestImports.Basis));
        Assert.Equal("Import_Unreadable", error.ReasonKey);
        Assert.Equal(0, await CountAllContactsAsync(app));
        Assert.Equal(0, await app.WithDbAsync(db => db.ImportBatches.CountAsync()));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Contacts_of_a_running_import_are_invisible_until_it_completes(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var list = LargeList(2 * ContactImporter.ChunkSize + 10);
        using var gate = new SemaphoreSlim(0);
        using var reached = new SemaphoreSlim(0);
        // Pauses the read after the first chunks have been committed.
        using var stream = new TripwireStream(list, list.Length - 50, () => { reached.Release(); gate.Wait(); });
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var import = Task.Run(() => importer.ImportAsync(newsletter.Id, stream, "gross.txt", "test", TestImports.Basis));
        Assert.True(await reached.WaitAsync(TimeSpan.FromSeconds(60)));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await CountAllContactsAsync(app) == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);

        Assert.True(await CountAllContactsAsync(app) > 0); // written in chunks …
        Assert.Equal(0, await app.WithDbAsync(db => db.Contacts.CountAsync())); // … but nobody sees them yet
        gate.Release();
        var summary = await import;
        Assert.Equal(summary.Imported, await app.WithDbAsync(db => db.Contacts.CountAsync()));
    }

    private static Task<int> CountAllContactsAsync(AppFactory app) => app.WithDbAsync(db => db.Contacts.IgnoreQueryFilters().CountAsync());

    /// <summary>Distinct valid German mobile numbers, one per line.</summary>
    internal static byte[] LargeList(int rows)
    {
        var text = new StringBuilder();
        for (var i = 0; i < rows; i++) text.Append("0160 ").Append((1_000_000 + i).ToString("D7")).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static byte[] Flip(byte[] source, Random random, int bits)
    {
        var copy = (byte[])source.Clone();
        for (var i = 0; i < bits && copy.Length > 0; i++) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// A memory stream that runs an action once reading passes a position (cancel, fail, pause) for the
    /// second time: the first pass is the encoding detection, the second the import itself.
    /// </summary>
    private sealed class TripwireStream(byte[] content, long at, Action trip) : MemoryStream(content, writable: false)
    {
        private int _crossings;
        public bool Tripped { get; private set; }

        public override long Position
        {
            get => base.Position;
            set
            {
                if (value <= at && base.Position > at) _crossings++;
                base.Position = value;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Check(base.Read(buffer, offset, Limit(count)));

        public override int Read(Span<byte> buffer) => Check(base.Read(buffer[..Limit(buffer.Length)]));

        // Small reads, so the tripwire fires close to its position even though readers buffer.
        private static int Limit(int count) => Math.Min(count, 4096);

        private int Check(int read)
        {
            if (!Tripped && Position > at && _crossings == 1)
            {
                Tripped = true;
                trip();
            }
            return read;
        }
    }
}
