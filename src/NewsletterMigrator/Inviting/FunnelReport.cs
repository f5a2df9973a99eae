using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>The migration funnel per import and per newsletter: counts of contacts that reached each step.</summary>
public sealed class FunnelReport(AppDbContext db, InvitationOpens? opens = null)
{
    /// <param name="NotOnWhatsApp">
    /// Contacts Meta reported as unable to receive WhatsApp messages (131026): not a step of the funnel (no rate leads to
    /// it), shown beside it so staff know how many to reach through another channel.
    /// </param>
    public sealed record Steps(long Imported, long Invited, long Opened, long SignedUp, long Confirmed, long Unsubscribed, long NotOnWhatsApp = 0)
    {
        public long[] Values => [Imported, Invited, Opened, SignedUp, Confirmed, Unsubscribed];

        /// <summary>The rate from each step to the next (null where the step before is zero).</summary>
        public double?[] Rates
        {
            get
            {
                var v = Values;
                return [.. Enumerable.Range(1, v.Length - 1).Select(i => v[i - 1] == 0 ? (double?)null : (double)v[i] / v[i - 1])];
            }
        }

        public static Steps operator +(Steps a, Steps b) => new(a.Imported + b.Imported, a.Invited + b.Invited, a.Opened + b.Opened,
            a.SignedUp + b.SignedUp, a.Confirmed + b.Confirmed, a.Unsubscribed + b.Unsubscribed, a.NotOnWhatsApp + b.NotOnWhatsApp);
    }

    /// <summary>One import's funnel with the legal basis recorded for its invitation (C36).</summary>
    public sealed record ImportRow(int ImportId, string FileName, DateTime CreatedAtUtc, Steps Steps, string LegalBasisKind = "", string LegalBasis = "");

    public sealed record Report(Steps Total, List<ImportRow> Imports);

    public async Task<Report> ForNewsletterAsync(int newsletterId, CancellationToken ct = default)
    {
        if (opens is not null) await opens.FlushAsync(ct); // the opens of the last half second, still queued (InvitationOpens)
        // One grouped query over the contacts; each step is a timestamp, so a count of non-null values.
        var counts = await db.Contacts.Where(c => c.NewsletterId == newsletterId)
            .GroupBy(c => c.ImportBatchId)
            .Select(g => new
            {
                ImportId = g.Key,
                Imported = g.Count(),
                Invited = g.Count(c => c.InvitedAtUtc != null),
                Opened = g.Count(c => c.OpenedAtUtc != null),
                SignedUp = g.Count(c => c.SignedUpAtUtc != null),
                Confirmed = g.Count(c => c.ConfirmedAtUtc != null),
                Unsubscribed = g.Count(c => c.UnsubscribedAtUtc != null),
                NotOnWhatsApp = g.Count(c => c.NotOnWhatsAppAtUtc != null),
            }).ToListAsync(ct);
        // A failed import is kept, emptied, only so that its page says why; it has no contacts to offer.
        var batches = await db.ImportBatches.AsNoTracking().Where(b => b.NewsletterId == newsletterId && b.Status != ImportStatus.Failed).OrderBy(b => b.Id).ToListAsync(ct);
        var rows = batches.Select(b =>
        {
            var c = counts.SingleOrDefault(x => x.ImportId == b.Id);
            var steps = c is null ? new Steps(0, 0, 0, 0, 0, 0) : new Steps(c.Imported, c.Invited, c.Opened, c.SignedUp, c.Confirmed, c.Unsubscribed, c.NotOnWhatsApp);
            return new ImportRow(b.Id, b.FileName, b.CreatedAtUtc, steps, b.LegalBasisKind, b.LegalBasis);
        }).ToList();
        var total = rows.Aggregate(new Steps(0, 0, 0, 0, 0, 0), (sum, r) => sum + r.Steps);
        return new Report(total, rows);
    }
}
