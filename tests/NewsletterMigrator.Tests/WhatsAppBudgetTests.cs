using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, point 1: never more new conversations in any moving 24 hours than the portfolio's messaging limit, counted
/// from what Meta accepted, across restarts and instances. The clock is moved, not waited for.
/// </summary>
public sealed class WhatsAppBudgetTests
{
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    /// <summary>
    /// The headline test: 3,000 invitations, a limit of 1,000 (TIER_1K from the Graph API), three days. Day 1 starts at
    /// 23:00 Berlin, so the calendar day turns an hour later: the moving 24 hours, not the date, decide when day 2 begins.
    /// </summary>
    [Fact]
    public async Task Three_thousand_invitations_at_a_limit_of_1000_go_out_1000_per_moving_24_hours_and_all_after_three_days()
    {
        await using var host = new WhatsAppHost();
        host.Graph.MessagingLimit = "TIER_1K";
        var newsletter = await host.NewsletterWithContactsAsync(3_000);
        host.MoveToNextBerlin(new TimeOnly(23, 0));
        var start = host.Now;
        Assert.Equal(3_000, await host.QueueAllAsync(newsletter));

        for (var day = 1; day <= 3; day++)
        {
            await host.WaitForAcceptedAsync(1_000 * day);
            Assert.Equal(1_000 * day, await host.RequestsAfterQuietAsync());
            if (day == 3) break;
            // A new Berlin day, but not yet 24 hours since the first of the day's sends: nothing more.
            host.Clock.Advance(TimeSpan.FromHours(2));
            Assert.Equal(1_000 * day, await host.RequestsAfterQuietAsync());
            // A minute before the day's last send is 24 hours old: still nothing. Once it is, the next 1,000 go.
            var last = await host.WithDbAsync(db => db.WhatsAppMessages.MaxAsync(m => m.AcceptedAtUtc));
            host.Clock.Advance(last!.Value + Day - TimeSpan.FromMinutes(1) - host.Now);
            Assert.Equal(1_000 * day, await host.RequestsAfterQuietAsync());
            host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        }

        var accepted = await host.WithDbAsync(db => db.WhatsAppMessages.Select(m => m.AcceptedAtUtc!.Value).ToListAsync());
        Assert.Equal(3_000, accepted.Count);
        Assert.Equal(1_000, WhatsAppHost.MostInAnyDay(accepted));
        for (var day = 0; day < 3; day++)
            Assert.Equal(1_000, accepted.Count(t => t >= start + day * Day && t < start + (day + 1) * Day));
        Assert.True(accepted.Max() < start + 3 * Day);
        // Each reader once.
        Assert.Equal(3_000, host.Graph.Requests.Select(r => r.Body.GetProperty("to").GetString()).Distinct().Count());
        Assert.Equal(3_000, await host.WithDbAsync(db => db.Contacts.CountAsync(c => c.InvitedAtUtc != null)));
    }

    [Fact]
    public async Task Two_instances_on_one_database_share_the_budget_and_together_never_exceed_it()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:AccessToken"] = "EAAG-instance-a", ["WhatsApp:MessagesPerSecond"] = "200" });
        host.Graph.MessagingLimit = "TIER_250";
        var newsletter = await host.NewsletterWithContactsAsync(600);
        // Each instance signs its requests with its own token, so the fake can tell who sent what.
        host.StartAnother(new() { ["WhatsApp:AccessToken"] = "EAAG-instance-b" });
        // Both sending slowly enough that each has batches in flight while the other reserves.
        await host.QueueAllAsync(newsletter);

        await host.WaitForAcceptedAsync(250);
        Assert.Equal(250, await host.RequestsAfterQuietAsync());
        Assert.Equal(250, await host.AcceptedAsync());
        var byInstance = host.Graph.Requests.GroupBy(r => r.Authorization).ToDictionary(g => g.Key!, g => g.Count());
        Assert.True(byInstance.Count == 2, $"only one instance sent ({string.Join(", ", byInstance)}); the test proves nothing");

        var last = await host.WithDbAsync(db => db.WhatsAppMessages.MaxAsync(m => m.AcceptedAtUtc));
        host.Clock.Advance(last!.Value + Day - TimeSpan.FromMinutes(1) - host.Now);
        Assert.Equal(250, await host.RequestsAfterQuietAsync());
        host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await host.WaitForAcceptedAsync(500);
        Assert.Equal(500, await host.RequestsAfterQuietAsync());
        var accepted = await host.WithDbAsync(db => db.WhatsAppMessages.Where(m => m.AcceptedAtUtc != null).Select(m => m.AcceptedAtUtc!.Value).ToListAsync());
        Assert.Equal(250, WhatsAppHost.MostInAnyDay(accepted));
    }

    [Fact]
    public async Task A_restarted_instance_counts_what_went_out_before_the_restart()
    {
        await using var host = new WhatsAppHost(new() { ["WhatsApp:LimitRefreshInterval"] = "01:00:00" });
        host.Graph.MessagingLimit = "TIER_250";
        // An hour before the Berlin date turns: the restart comes on a new calendar day, still within the 24 hours.
        host.MoveToNextBerlin(new TimeOnly(23, 0));
        var newsletter = await host.NewsletterWithContactsAsync(400);
        await host.QueueAllAsync(newsletter);
        await host.WaitForAcceptedAsync(250);
        await host.App.StopHostAsync();
        Assert.Equal(1, host.Graph.PhoneNumberReads);

        // Restarted two hours later: the Graph refresh is due, so the new worker's first round is visible to the test.
        host.Clock.Advance(TimeSpan.FromHours(2));
        host.StartAnother();
        await host.WaitUntilAsync(() => host.Graph.PhoneNumberReads == 2, "the restarted worker's first round");
        Assert.Equal(250, await host.RequestsAfterQuietAsync());

        // The rest goes once the first day's sends have left the window, and not a minute before.
        var last = await host.WithDbAsync(db => db.WhatsAppMessages.MaxAsync(m => m.AcceptedAtUtc));
        host.Clock.Advance(last!.Value + Day - TimeSpan.FromMinutes(1) - host.Now);
        Assert.Equal(250, await host.RequestsAfterQuietAsync());
        host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await host.WaitForAcceptedAsync(400);
        Assert.Equal(400, await host.RequestsAfterQuietAsync());
        var accepted = await host.WithDbAsync(db => db.WhatsAppMessages.Select(m => m.AcceptedAtUtc!.Value).ToListAsync());
        Assert.Equal(250, WhatsAppHost.MostInAnyDay(accepted));
    }
}
