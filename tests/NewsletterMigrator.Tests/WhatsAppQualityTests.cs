using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, points 1 and 3: the number's quality rating (RED pauses, YELLOW halves the day's budget) and the messaging
/// limit, read from the Graph API at start and every LimitRefreshInterval, and changed at once by Meta's webhooks.
/// </summary>
public sealed class WhatsAppQualityTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    [Fact]
    public async Task A_FLAGGED_quality_webhook_pauses_a_running_batch_before_its_next_message()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:MessagesPerSecond"] = "20" });
        var newsletter = await host.NewsletterWithContactsAsync(100);
        await host.QueueAllAsync(newsletter);
        await host.WaitUntilAsync(() => host.Graph.Requests.Count >= 5, "the batch under way");

        await host.PostWebhookAsync(FakeGraphApi.QualityWebhook("FLAGGED", "TIER_10K"));
        var atPause = host.Graph.Requests.Count;
        Assert.True(atPause < 50, $"the batch was over before the webhook ({atPause} sent); the test proves nothing");
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Quality, account.PauseKind);
        Assert.Equal("RED", account.QualityRating);

        Assert.InRange(await host.RequestsAfterQuietAsync(), atPause, atPause + 1);
        // A quality pause is lifted by a person, not by the next day.
        host.Clock.Advance(Day);
        Assert.InRange(await host.RequestsAfterQuietAsync(), atPause, atPause + 1);
    }

    [Fact]
    public async Task A_RED_rating_from_the_Graph_API_at_start_pauses_before_the_first_message()
    {
        await using var host = new WhatsAppHost();
        host.Graph.QualityRating = "RED";
        var newsletter = await host.NewsletterWithContactsAsync(5);
        await host.QueueAllAsync(newsletter);
        await host.WaitUntilAsync(() => host.Graph.PhoneNumberReads >= 1, "the worker's first round");

        Assert.Equal(0, await host.RequestsAfterQuietAsync());
        var account = await host.AccountAsync();
        Assert.Equal(WhatsAppPause.Quality, account.PauseKind);
        Assert.Equal("quality rating RED (Graph API)", account.PauseDetail);
    }

    /// <summary>
    /// YELLOW: half the limit in any moving 24 hours. Sending begins at 23:00 Berlin, so the calendar day turns an hour
    /// later: half the day's budget, not half per date.
    /// </summary>
    [Fact]
    public async Task A_YELLOW_rating_from_the_Graph_API_halves_the_budget_of_any_moving_24_hours()
    {
        await using var host = new WhatsAppHost();
        host.Graph.MessagingLimit = "TIER_250";
        host.Graph.QualityRating = "YELLOW";
        host.MoveToNextBerlin(new TimeOnly(23, 0));
        var newsletter = await host.NewsletterWithContactsAsync(300);
        await host.QueueAllAsync(newsletter);

        await host.WaitForAcceptedAsync(125);
        Assert.Equal(125, await host.RequestsAfterQuietAsync());
        host.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(125, await host.RequestsAfterQuietAsync());

        // A minute before the last send is 24 hours old: still nothing.
        var last = await host.WithDbAsync(db => db.WhatsAppMessages.MaxAsync(m => m.AcceptedAtUtc));
        host.Clock.Advance(last!.Value + Day - TimeSpan.FromMinutes(1) - host.Now);
        Assert.Equal(125, await host.RequestsAfterQuietAsync());
        host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await host.WaitForAcceptedAsync(250);
        Assert.Equal(250, await host.RequestsAfterQuietAsync());
        var accepted = await host.WithDbAsync(db => db.WhatsAppMessages.Where(m => m.AcceptedAtUtc != null).Select(m => m.AcceptedAtUtc!.Value).ToListAsync());
        Assert.Equal(125, WhatsAppHost.MostInAnyDay(accepted));
    }

    [Fact]
    public async Task The_limit_is_read_from_the_Graph_API_at_start_and_again_after_LimitRefreshInterval()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:LimitRefreshInterval"] = "01:00:00" });
        host.Graph.MessagingLimit = "TIER_50";
        var newsletter = await host.NewsletterWithContactsAsync(300);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(50);
        Assert.Equal(50, await host.RequestsAfterQuietAsync());

        // Meta raises the limit; the app learns it at the next refresh, not before.
        host.Graph.MessagingLimit = "TIER_250";
        Assert.Equal(50, await host.RequestsAfterQuietAsync());
        Assert.Equal(1, host.Graph.PhoneNumberReads);

        host.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await host.WaitForAcceptedAsync(250);
        Assert.Equal(250, await host.RequestsAfterQuietAsync());
        Assert.Equal(2, host.Graph.PhoneNumberReads);
        var account = await host.AccountAsync();
        Assert.Equal(250, account.MessagingLimit);
        Assert.Equal("graph", account.MessagingLimitSource);
    }

    [Fact]
    public async Task The_capability_webhook_changes_the_limit_at_once()
    {
        await using var host = new WhatsAppHost();
        host.Graph.MessagingLimit = "TIER_50";
        var newsletter = await host.NewsletterWithContactsAsync(300);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(50);
        Assert.Equal(50, await host.RequestsAfterQuietAsync());

        await host.PostWebhookAsync(FakeGraphApi.CapabilityWebhook(120));
        await host.WaitForAcceptedAsync(120);
        Assert.Equal(120, await host.RequestsAfterQuietAsync());
        Assert.Equal(1, host.Graph.PhoneNumberReads);
        Assert.Equal("webhook", (await host.AccountAsync()).MessagingLimitSource);
    }
}
