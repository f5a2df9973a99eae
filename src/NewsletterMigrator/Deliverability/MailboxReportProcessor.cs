using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Processes one mail from the bounce mailbox exactly once: classifies it, carries out what it means, and records it
/// under the hash of its bytes in the same transaction. The caller files the mail in the folder its kind names.
/// </summary>
public sealed class MailboxReportProcessor(AppDbContext db, TimeProvider clock)
{
    /// <returns>The kind the mail was found to be, now or when it was first processed.</returns>
    public async Task<ReportKind> ProcessAsync(byte[] rawMessage, CancellationToken ct = default)
    {
        var sha = SHA256.HashData(rawMessage);
        var seen = await db.MailboxMails.Where(m => m.ContentSha256 == sha).Select(m => (ReportKind?)m.Kind).FirstOrDefaultAsync(ct);
        if (seen is { } kind) return kind;

        using var stream = new MemoryStream(rawMessage, writable: false);
        var message = await MimeMessage.LoadAsync(stream, ct);
        var report = ReportClassifier.Classify(message);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // Placeholder of the base commit: the effects' engineer carries out the report here, in this transaction.
        db.MailboxMails.Add(new MailboxMail
        {
            ContentSha256 = sha, Kind = report.Kind, ProcessedAtUtc = clock.GetUtcNow().UtcDateTime,
            ReceivedAtUtc = message.Date == DateTimeOffset.MinValue ? null : message.Date.UtcDateTime,
        });
        try
        {
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException e) when (UniqueViolation.Is(e))
        {
            // Another instance processed the same mail a moment ago: its record stands.
            return await db.MailboxMails.Where(m => m.ContentSha256 == sha).Select(m => m.Kind).FirstAsync(ct);
        }
        return report.Kind;
    }
}
