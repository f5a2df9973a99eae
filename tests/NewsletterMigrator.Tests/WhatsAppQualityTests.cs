using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Inviting;
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
        // A quality pause lasts while Meta rates the number RED, not until the next day (the Graph API is read again then).
        host.Graph.QualityRating = "RED";
        host.Clock.Advance(Day);
        await host.WaitUntilAsync(() => host.Graph.PhoneNumberReads >= 2, "the next Graph API read");
        Assert.InRange(await host.RequestsAfterQuietAsync(), atPause, atPause + 1);
        Assert.Equal(WhatsAppPause.Quality, (await host.AccountAsync()).PauseKind);
    }

    /// <summary>
    /// One pause, two causes: the template is paused, then the number is flagged. Meta approving the template again must
    /// not send on a RED number; the queue goes on only when Meta no longer rates it RED, and no admin can resume before.
    /// </summary>
    [Fact]
    public async Task A_template_approved_while_the_number_is_RED_keeps_the_queue_paused_until_the_rating_leaves_RED()
    {
        await using var host = new WhatsAppHost();
        // The worker's first Graph API read (GREEN) is over before Meta's webhooks come.
        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.QualityRating == "GREEN"), "the first Graph API read");
        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("PAUSED"));
        var newsletter = await host.NewsletterWithContactsAsync(5);
        await host.QueueAllAsync(newsletter);

        host.Graph.QualityRating = "RED";
        await host.PostWebhookAsync(FakeGraphApi.QualityWebhook("FLAGGED", "TIER_10K"));
        var account = await host.AccountAsync();
        Assert.Equal("RED", account.QualityRating);
        Assert.Equal(WhatsAppPause.Template, account.PauseKind);

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("APPROVED"));
        Assert.Equal(0, await host.RequestsAfterQuietAsync());
        account = await host.AccountAsync();
        Assert.NotNull(account.PausedAtUtc);
        Assert.Equal(WhatsAppPause.Quality, account.PauseKind);
        Assert.Equal(ResumeOutcome.StillRed, await host.App.WithAccountsAsync(a => a.ResumeAsync("admin@example.test")));
        Assert.Equal(0, await host.RequestsAfterQuietAsync());

        // Meta rates the number GREEN again (UNFLAGGED has the Graph API read again): the queue goes on by itself.
        host.Graph.QualityRating = "GREEN";
        await host.PostWebhookAsync(FakeGraphApi.QualityWebhook("UNFLAGGED", "TIER_10K"));
        await host.WaitForAcceptedAsync(5);
        account = await host.AccountAsync();
        Assert.Null(account.PausedAtUtc);
        // Lifted by Meta's word, not by a person who looked at the objections: they still count from where they did.
        Assert.Null(account.ObjectionsCountFromUtc);
        var resume = await host.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "whatsapp-resume"));
        Assert.Equal("whatsapp", resume.UserName);
    }

    [Fact]
    public async Task A_FLAGGED_webhook_while_paused_for_another_reason_is_kept_and_a_GREEN_rating_lifts_only_a_quality_pause()
    {
        await using var host = new WhatsAppHost();
        await host.WaitForAsync(db => db.WhatsAppAccounts.AnyAsync(a => a.QualityRating == "GREEN"), "the first Graph API read");
        await host.App.WithAccountsAsync(a => a.PauseAsync(WhatsAppPause.Manual, "Rückfragen abwarten", "admin@example.test"));
        var newsletter = await host.NewsletterWithContactsAsync(3);
        await host.QueueAllAsync(newsletter);
        await host.PostWebhookAsync(FakeGraphApi.QualityWebhook("FLAGGED", "TIER_10K"));
        Assert.Equal("RED", (await host.AccountAsync()).QualityRating);
        Assert.Equal(ResumeOutcome.StillRed, await host.App.WithAccountsAsync(a => a.ResumeAsync("admin@example.test")));

        // The rating leaves RED: the admin's own pause stays until the admin lifts it.
        await host.App.WithAccountsAsync(a => a.SetQualityAsync("GREEN", "webhook"));
        Assert.Equal(0, await host.RequestsAfterQuietAsync());
        Assert.Equal(WhatsAppPause.Manual, (await host.AccountAsync()).PauseKind);
        await host.ResumeAsync();
        await host.WaitForAcceptedAsync(3);
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
