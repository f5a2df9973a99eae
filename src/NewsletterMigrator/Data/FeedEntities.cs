using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>Breaking: each matching item becomes a campaign at once. Digest: the items since the last digest, at set times.</summary>
public enum FeedMode { Breaking, Digest }

/// <summary>
/// A feed of the portal's CMS (RSS, Atom or JSON Feed) that a newsletter turns into mail (issue 19). Its poll state
/// (validators, due time, failures) lives here, not in memory, so any instance may poll it next.
/// </summary>
public sealed class Feed
{
    public int Id { get; set; }
    public int NewsletterId { get; set; }
    public required string Url { get; set; }
    /// <summary>The feed's own title, as it last answered; shown in the admin area.</summary>
    public string? Title { get; set; }
    public FeedMode Mode { get; set; }
    /// <summary>True: campaigns go out by themselves; false: each waits as a draft for an editor's one-click approval.</summary>
    public bool AutoSend { get; set; }
    /// <summary>Breaking mode: only items with this category/tag (case-insensitive); null: every item of the feed.</summary>
    public string? Category { get; set; }
    /// <summary>Breaking mode: at most this many automatic campaigns per Berlin day; later items wait for approval.</summary>
    public int MaxPerDay { get; set; } = 5;
    /// <summary>Digest mode: the Berlin wall-clock time, in minutes after midnight.</summary>
    public int DigestMinuteOfDay { get; set; } = Feeds.DigestSchedule.DefaultMinuteOfDay;
    /// <summary>Digest mode: the weekdays, bit (1 &lt;&lt; (int)DayOfWeek) each; Monday to Friday by default.</summary>
    public int DigestWeekdays { get; set; } = Feeds.DigestSchedule.MondayToFriday;
    /// <summary>Digest mode: when the next digest is due (UTC); the instance that moves it on makes the digest.</summary>
    public DateTime? NextDigestAtUtc { get; set; }
    public bool Enabled { get; set; } = true;

    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    /// <summary>When the feed is polled next; a poller claims a feed by moving this on (a lease against a crash).</summary>
    public DateTime NextPollAtUtc { get; set; }
    public DateTime? LastPolledAtUtc { get; set; }
    /// <summary>Null until the first successful fetch: what the feed holds then is its baseline and is never sent.</summary>
    public DateTime? LastSuccessAtUtc { get; set; }
    public int ConsecutiveFailures { get; set; }
    /// <summary>The last failure as the editor sees it (kind and a short detail, never the URL's query).</summary>
    public string? LastError { get; set; }

    public DateTime CreatedAtUtc { get; set; }
    public string CreatedBy { get; set; } = "";
}

/// <summary>What became of a feed item.</summary>
public enum FeedItemState
{
    /// <summary>In the feed when it was added (its first fetch): never sent.</summary>
    Baseline,
    /// <summary>A breaking feed's item that does not match its category.</summary>
    Skipped,
    /// <summary>A digest feed's item waiting for the next digest.</summary>
    Pending,
    /// <summary>Made into a campaign (<see cref="FeedItem.CampaignId"/>): its own, or a digest's.</summary>
    InCampaign,
}

/// <summary>
/// One item of a feed, recognised by its guid (or link): the unique (FeedId, KeyHash) makes sure an item is taken once,
/// whichever instance polls it and however the feed edits it later.
/// </summary>
public sealed class FeedItem
{
    public long Id { get; set; }
    public int FeedId { get; set; }
    /// <summary>SHA-256 (hex) of the item's key, so a long guid fits an index.</summary>
    public required string KeyHash { get; set; }
    public required string Title { get; set; }
    public string? Link { get; set; }
    public string? Summary { get; set; }
    public string? ImageUrl { get; set; }
    public DateTime? PublishedUtc { get; set; }
    public DateTime FirstSeenAtUtc { get; set; }
    public FeedItemState State { get; set; }
    public int? CampaignId { get; set; }
}

internal static class FeedModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<Feed>(e =>
        {
            e.Property(f => f.Url).HasMaxLength(2000);
            e.Property(f => f.Title).HasMaxLength(300);
            e.Property(f => f.Category).HasMaxLength(200);
            e.Property(f => f.ETag).HasMaxLength(300);
            e.Property(f => f.LastModified).HasMaxLength(100);
            e.Property(f => f.LastError).HasMaxLength(500);
            e.Property(f => f.CreatedBy).HasMaxLength(256);
            e.HasIndex(f => f.NewsletterId);
            e.HasIndex(f => f.NextPollAtUtc);
            e.HasOne<Newsletter>().WithMany().HasForeignKey(f => f.NewsletterId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<FeedItem>(e =>
        {
            e.Property(i => i.KeyHash).HasMaxLength(64);
            e.Property(i => i.Title).HasMaxLength(500);
            e.Property(i => i.Link).HasMaxLength(2000);
            e.Property(i => i.Summary).HasMaxLength(1000);
            e.Property(i => i.ImageUrl).HasMaxLength(2000);
            e.HasIndex(i => new { i.FeedId, i.KeyHash }).IsUnique();
            e.HasIndex(i => new { i.FeedId, i.State });
            e.HasOne<Feed>().WithMany().HasForeignKey(i => i.FeedId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
