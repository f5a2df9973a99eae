using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>Where a newsletter's migration stands: a personal link needs an end date that has not passed.</summary>
public enum MigrationWindow { Open, NoEndDate, Ended }

/// <summary>The end date has passed: it can no longer be moved (the numbers may be gone, the links are dead).</summary>
public enum MigrationEndChange { Allowed, EndedAlready, InThePast, Removed }

/// <summary>A reminder that the end date is close, for the dashboard and the import and invitation pages.</summary>
public sealed record MigrationEndReminder(int NewsletterId, string NewsletterName, DateTime EndsAtUtc, int DaysLeft);

/// <summary>
/// The one rule for the migration end date (C16, C29): nothing that creates or hands out a personal link
/// (an import, the CSV export of links, the click-to-chat queue, the Cloud API) runs without an end date
/// in the future, because numbers must not live forever. Once it has passed, the retention job deletes
/// the numbers and names and the invitation links stop; so an end date that has passed is final.
/// </summary>
public static class MigrationEnd
{
    /// <summary>How long before the end the admin is reminded.</summary>
    public static readonly TimeSpan ReminderLead = TimeSpan.FromDays(14);

    public static MigrationWindow Window(Newsletter newsletter, DateTime nowUtc) =>
        newsletter.MigrationEndsAtUtc is not { } end ? MigrationWindow.NoEndDate
        : end < nowUtc ? MigrationWindow.Ended
        : MigrationWindow.Open;

    /// <summary>The resource key of the message that says why nothing personal may happen (names the setting).</summary>
    public static string MessageKey(MigrationWindow window) => window switch
    {
        MigrationWindow.NoEndDate => "MigrationEnd_Missing",
        MigrationWindow.Ended => "MigrationEnd_Passed",
        _ => "",
    };

    /// <summary>The resource key of the message refusing a change, or "" when it is allowed.</summary>
    public static string ChangeMessageKey(MigrationEndChange change) => change switch
    {
        MigrationEndChange.EndedAlready => "MigrationEnd_ChangeEnded",
        MigrationEndChange.InThePast => "MigrationEnd_ChangeInPast",
        MigrationEndChange.Removed => "MigrationEnd_ChangeRemoved",
        _ => "",
    };

    /// <summary>Due from 14 days before the end until it passes; null otherwise.</summary>
    public static MigrationEndReminder? Reminder(Newsletter newsletter, DateTime nowUtc)
    {
        if (newsletter.MigrationEndsAtUtc is not { } end || end < nowUtc || end - nowUtc > ReminderLead) return null;
        return new MigrationEndReminder(newsletter.Id, newsletter.Name, end, (int)Math.Ceiling((end - nowUtc).TotalDays));
    }

    /// <summary>
    /// Whether the end date may change from <paramref name="currentUtc"/> to <paramref name="proposedUtc"/>:
    /// it may be moved (earlier or later) and set for the first time while the migration runs; once it has
    /// passed it is final (reopening would revive links whose numbers the retention job has deleted), and
    /// a new date must lie in the future. Once set it cannot be removed: links handed out live until that
    /// date, and without one they would live, and the numbers stay, forever. Leaving it unchanged is always allowed.
    /// </summary>
    public static MigrationEndChange CheckChange(DateTime? currentUtc, DateTime? proposedUtc, DateTime nowUtc)
    {
        if (currentUtc == proposedUtc) return MigrationEndChange.Allowed;
        if (currentUtc is { } current && current < nowUtc) return MigrationEndChange.EndedAlready;
        if (currentUtc is not null && proposedUtc is null) return MigrationEndChange.Removed;
        if (proposedUtc is { } proposed && proposed < nowUtc) return MigrationEndChange.InThePast;
        return MigrationEndChange.Allowed;
    }
}
