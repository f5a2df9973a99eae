using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>NotOpen: the newsletter's legal identity is incomplete (C38); NoEndDate, Ended: the migration end (C16, C29).</summary>
public enum InvitationGate { Open, NoEndDate, Ended, NotOpen }

public enum QueueFilter { Open, Invited, All }

/// <summary>
/// The click-to-chat queue: walks a newsletter's (or one import's) contacts by id, one at a time,
/// with keyset paging so the 100,000th contact is as quick to reach as the first.
/// </summary>
public sealed class InvitationQueue(AppDbContext db, TimeProvider clock)
{
    public sealed record Position(Contact? Current, int Number, int Total, int StillOpen);

    /// <summary>
    /// The one door every personal link passes (queue, Cloud API, export): the newsletter must be open (C38),
    /// and the migration must run with an end date that has not passed (C16, C29).
    /// </summary>
    public static InvitationGate Gate(Newsletter newsletter, DateTime nowUtc) =>
        !Newsletters.LegalReadiness.IsOpen(newsletter) ? InvitationGate.NotOpen
        : Newsletters.MigrationEnd.Window(newsletter, nowUtc) switch
        {
            Newsletters.MigrationWindow.NoEndDate => InvitationGate.NoEndDate,
            Newsletters.MigrationWindow.Ended => InvitationGate.Ended,
            _ => InvitationGate.Open,
        };

    /// <summary>The resource key of the message that says why no invitation may go out.</summary>
    public static string MessageKey(InvitationGate gate) => gate switch
    {
        InvitationGate.NotOpen => "Legal_InvitationsNotOpen",
        InvitationGate.NoEndDate => Newsletters.MigrationEnd.MessageKey(Newsletters.MigrationWindow.NoEndDate),
        InvitationGate.Ended => Newsletters.MigrationEnd.MessageKey(Newsletters.MigrationWindow.Ended),
        _ => "",
    };

    public InvitationGate Gate(Newsletter newsletter) => Gate(newsletter, clock.GetUtcNow().UtcDateTime);

    // One import: filtered by the import alone, so SQLite seeks its index (NextAsync checks it belongs to the newsletter).
    private IQueryable<Contact> Scope(int newsletterId, int? importId) =>
        importId is { } id
            ? db.Contacts.Where(c => c.ImportBatchId == id)
            : db.Contacts.Where(c => c.NewsletterId == newsletterId);

    private IQueryable<Contact> Open(IQueryable<Contact> scope) => Invitable(scope, db);

    /// <summary>
    /// The one rule for "may still get the one invitation" (C11, C41), asked by the queue, its send button and the
    /// Cloud API: not yet invited by either channel, still reachable, not objected or suppressed, not yet signed up.
    /// </summary>
    public static IQueryable<Contact> Invitable(IQueryable<Contact> contacts, AppDbContext db) =>
        contacts.Where(c => c.InvitedAtUtc == null && c.PhoneEncrypted != null && c.SignedUpAtUtc == null && c.ObjectedAtUtc == null
                            && !db.WhatsAppMessages.Any(m => m.ContactId == c.Id))
            .Where(NotSuppressed(db));

    /// <summary>
    /// The number is not on the suppression list. Numbers get there also without touching the contact (an
    /// admin's manual entry, an old provider's opt-out list imported after the contacts), so every channel
    /// asks the list itself; the (kind, hash) index makes it one lookup per contact.
    /// </summary>
    public static System.Linq.Expressions.Expression<Func<Contact, bool>> NotSuppressed(AppDbContext db) =>
        c => !db.Suppressions.Any(s => s.Kind == SuppressionKind.Phone && s.Hash == c.PhoneHmac);

    private IQueryable<Contact> Filtered(int newsletterId, int? importId, QueueFilter filter)
    {
        var scope = Scope(newsletterId, importId);
        return filter switch
        {
            QueueFilter.Open => Open(scope),
            QueueFilter.Invited => scope.Where(c => c.InvitedAtUtc != null),
            _ => scope,
        };
    }

    public async Task<Position> NextAsync(int newsletterId, int? importId, QueueFilter filter, Guid? after, CancellationToken ct = default)
    {
        if (importId is { } import && !await db.ImportBatches.Of(newsletterId, import).AnyAsync(ct))
            return new Position(null, 0, 0, 0);
        var query = Filtered(newsletterId, importId, filter);
        if (after is { } a) query = query.Where(c => c.Id.CompareTo(a) > 0);
        var current = await query.AsNoTracking().OrderBy(c => c.Id).FirstOrDefaultAsync(ct);
        var scope = Scope(newsletterId, importId);
        var total = await scope.CountAsync(ct);
        var number = current is null ? total : await scope.CountAsync(c => c.Id.CompareTo(current.Id) <= 0, ct);
        // Counted from the index alone: contacts not yet invited by either channel.
        var stillOpen = await scope.CountAsync(c => c.InvitedAtUtc == null, ct);
        return new Position(current, number, total, stillOpen);
    }

    /// <summary>Marks the contact invited once; false when it was already invited or is not open.</summary>
    public async Task<bool> MarkInvitedAsync(int newsletterId, Guid contactId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await Open(db.Contacts.Of(newsletterId, contactId))
            .ExecuteUpdateAsync(u => u.SetProperty(c => c.InvitedAtUtc, now), ct);
        return changed == 1;
    }
}
