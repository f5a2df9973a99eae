using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Finds the outbox mail a report is about: from its VERP return path among the addresses the report was delivered to
/// (only a token whose HMAC checks), else from the Message-ID of the returned mail (random, so not guessable). Never
/// from the address the report names: anyone can send a bounce naming anyone.
/// </summary>
public sealed class ReportTarget(AppDbContext db, VerpAddress returnPaths)
{
    public async Task<OutboundMessage?> FindAsync(ClassifiedReport report, CancellationToken ct = default)
    {
        foreach (var address in report.Addressees)
        {
            if (returnPaths.TryRead(address) is not { } id) continue;
            // A row retention has deleted since: try the next address, then the Message-ID.
            if (await db.OutboundMessages.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id, ct) is { } row) return row;
        }
        var messageId = report.OriginalMessageId?.Trim().Trim('<', '>').Trim();
        if (string.IsNullOrEmpty(messageId)) return null;
        return await db.OutboundMessages.AsNoTracking().Where(m => m.MessageId == messageId).OrderByDescending(m => m.Id).FirstOrDefaultAsync(ct);
    }
}
