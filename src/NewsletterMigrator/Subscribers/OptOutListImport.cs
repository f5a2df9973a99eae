using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Subscribers;

/// <summary>A row of an opt-out list that could not be used: its line, the reason code and the value as written.</summary>
public sealed record OptOutIssue(int Line, string Reason, string Value);

/// <summary>The row report of an opt-out list: every row is suppressed, already on the list, or invalid.</summary>
public sealed record OptOutReport(int Rows, int Suppressed, int Already, int Invalid, IReadOnlyList<OptOutIssue> Issues);

/// <summary>
/// Puts the old provider's opt-out list onto the suppression list in one go (C18, C36), in the same formats
/// and through the same reader as the import. Each row suppresses its email addresses and its phone number,
/// normalised as the importer does with the newsletter's region. Only keyed hashes are stored
/// (<see cref="SuppressionHash"/>), so a suppressed number is never imported again. What is already here
/// follows at once, as for a single objection or suppression: contacts with that number are ended
/// (<see cref="PhoneObjections.EndContactsAsync"/>), subscriptions of that address end as a withdrawal by the admin.
/// </summary>
public sealed class OptOutListImport(AppDbContext db, KeyRing keys, PhoneProtector phones, PhoneObjections objections, UnsubscribeService unsubscribes,
    IOptions<ImportOptions> importOptions, TimeProvider clock, ILogger<OptOutListImport> logger)
{
    public const string InvalidEmail = "invalid_email";
    private const int Chunk = 1000;

    public async Task<OptOutReport> ImportAsync(Stream file, string fileName, string region, string userName, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // The list is small next to a contact list; its hashes in memory find repeats, in the file as on the list.
        var known = new HashSet<(SuppressionKind, string)>();
        await foreach (var s in db.Suppressions.AsNoTracking().Select(s => new { s.Kind, s.Hash }).AsAsyncEnumerable().WithCancellation(ct))
            known.Add((s.Kind, Convert.ToBase64String(s.Hash)));

        int rows = 0, already = 0, suppressed = 0;
        var issues = new List<OptOutIssue>();
        var phoneColumn = -1;
        var first = true;
        var fresh = new List<Entry>();
        foreach (var record in ListReader.ReadRecords(file, fileName, ReadLimits.From(importOptions.Value)))
        {
            if (first)
            {
                first = false;
                if (HeaderNames.IsHeader(record.Fields))
                {
                    phoneColumn = HeaderNames.Detect(record.Fields, null).PhoneColumn;
                    continue;
                }
            }
            rows++;
            var (entries, issue) = Classify(record, phoneColumn, region);
            if (issue is not null)
            {
                issues.Add(issue);
                continue;
            }
            foreach (var entry in entries)
            {
                if (!known.Add((entry.Kind, Convert.ToBase64String(entry.Hash))))
                {
                    already++;
                    continue;
                }
                fresh.Add(entry);
            }
        }
        // An empty list is a mistake to report, not an audit entry of nothing (issue 13).
        if (rows == 0) throw ListReader.Empty();
        // Stored only once the whole file has been read: a damaged file changes nothing.
        foreach (var chunk in fresh.Chunk(Chunk)) suppressed += await StoreAsync(chunk, now, ct);

        db.Audit(userName, "suppress-list", $"file {Path.GetFileName(fileName)}: {rows} rows, {suppressed} suppressed, {already} already listed, {issues.Count} invalid", now);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Opt-out list: {Rows} rows, {Suppressed} suppressed, {Already} already listed, {Invalid} invalid", rows, suppressed, already, issues.Count);
        return new OptOutReport(rows, suppressed, already, issues.Count, issues);
    }

    private sealed record Entry(SuppressionKind Kind, byte[] Hash, string? EmailKey);

    /// <summary>
    /// Every address in the row, and its number (the number column, or without a header the first field that is
    /// no address): a provider's list may carry both. A row is reported only when nothing in it can be used.
    /// </summary>
    private (List<Entry> Entries, OptOutIssue? Issue) Classify(TableRecord record, int phoneColumn, string region)
    {
        var fields = record.Fields;
        var entries = new List<Entry>();
        OptOutIssue? firstProblem = null;
        foreach (var field in fields.Where(f => f.Contains('@')))
        {
            if (EmailAddress.TryNormalize(field, out var email))
            {
                var key = EmailAddress.Key(email);
                entries.Add(new Entry(SuppressionKind.Email, SuppressionHash.Email(keys, key), key));
            }
            else firstProblem ??= new OptOutIssue(record.Line, InvalidEmail, Cut(field));
        }
        var raw = phoneColumn >= 0 && phoneColumn < fields.Length ? fields[phoneColumn]
            : fields.FirstOrDefault(f => !string.IsNullOrWhiteSpace(f) && !f.Contains('@'));
        if (!string.IsNullOrWhiteSpace(raw) && !raw.Contains('@'))
        {
            var number = PhoneNormalizer.Normalize(raw, region);
            if (number.IsValid) entries.Add(new Entry(SuppressionKind.Phone, SuppressionHash.Phone(phones, number.E164!), null));
            else if (entries.Count == 0) firstProblem = new OptOutIssue(record.Line, number.InvalidReason!, Cut(raw));
        }
        if (entries.Count > 0) return (entries, null);
        return ([], firstProblem ?? new OptOutIssue(record.Line, PhoneNormalizer.Normalize("", region).InvalidReason!, ""));
    }

    private static string Cut(string value) => value.Length <= 200 ? value : value[..200];

    /// <summary>One short transaction per chunk: the hashes, then what they mean for contacts and subscribers already here.</summary>
    private async Task<int> StoreAsync(Entry[] entries, DateTime now, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Suppressions.AddRange(entries.Select(e => new Suppression { Kind = e.Kind, Hash = e.Hash, Reason = "opt-out list", CreatedAtUtc = now }));
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();

        // What is already here follows at once, through the same paths as a single objection or suppression:
        // contacts with a listed number are ended (objected, number and link gone, no invitation, C41), and
        // subscriptions of a listed address end as a withdrawal by the admin (never mailed again).
        foreach (var hash in entries.Where(e => e.Kind == SuppressionKind.Phone).Select(e => e.Hash))
            await objections.EndContactsAsync(hash, now, ct);
        foreach (var key in entries.Where(e => e.Kind == SuppressionKind.Email).Select(e => e.EmailKey!))
            await unsubscribes.WithdrawAddressAsync(key, WithdrawalChannel.Admin, ct);
        db.ChangeTracker.Clear();
        await transaction.CommitAsync(ct);
        return entries.Length;
    }
}
