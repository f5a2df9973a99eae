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
public sealed class MailboxReportProcessor(AppDbContext db, ReportEffects effects, TimeProvider clock)
{
    /// <returns>
    /// The kind the mail was filed as, now or when it was first processed: a bounce or complaint about no mail of ours
    /// is Unknown (left for a person), as is an unsubscribe mail whose token is not valid.
    /// </returns>
    public async Task<ReportKind> ProcessAsync(byte[] rawMessage, CancellationToken ct = default)
    {
        var sha = SHA256.HashData(rawMessage);
        var seen = await db.MailboxMails.Where(m => m.ContentSha256 == sha).Select(m => (ReportKind?)m.Kind).FirstOrDefaultAsync(ct);
        if (seen is { } kind) return kind;

        var message = await ParseAsync(rawMessage, ct);
        var report = message is null ? new ClassifiedReport(ReportKind.Unknown) : ReportClassifier.Classify(message);
        var receivedAt = message is null || message.Date == DateTimeOffset.MinValue ? (DateTime?)null : message.Date.UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        // The effects and the once-only record commit together: a crash in between leaves neither, and the mail is read again.
        var effect = await effects.ApplyAsync(report, receivedAt, ct);
        db.MailboxMails.Add(new MailboxMail
        {
            ContentSha256 = sha, Kind = effect.Kind, ProcessedAtUtc = clock.GetUtcNow().UtcDateTime,
            ReceivedAtUtc = receivedAt, OutboundMessageId = effect.OutboundMessageId,
            Outcome = message is null ? "not a readable mail (no header MIME can parse): left for a person" : effect.Outcome,
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
        return effect.Kind;
    }

    /// <summary>
    /// Null for bytes MIME cannot read at all (no header line; junk a broken server stored): recorded and left for a person
    /// like any mail the classifier does not know, rather than failing again at every pass and never leaving the inbox.
    /// </summary>
    private static async Task<MimeMessage?> ParseAsync(byte[] rawMessage, CancellationToken ct)
    {
        using var stream = new MemoryStream(rawMessage, writable: false);
        try
        {
            return await MimeMessage.LoadAsync(stream, ct);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
