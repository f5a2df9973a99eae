using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests.Welcome;

/// <summary>
/// Issue 21: "the welcome mail goes out exactly once, also across a crash". Once means: one outbox row, with one stable
/// Message-ID, per subscriber ever (Subscriber.WelcomeQueuedAtUtc, set in the confirmation's transaction); that row is
/// delivered as every outbox row is: at least once, and a second time only when its lease ran out (or its process died)
/// while the server was taking it, and then with the same Message-ID, so the reader's mail client shows one message.
/// </summary>
public sealed class WelcomeCrashTests
{
    [ProviderTheory, DatabaseProviders]
    public async Task A_host_stopping_after_the_confirmation_committed_but_before_the_welcome_went_out_sends_it_once_after_the_restart(DatabaseProvider database)
    {
        // A deferred mail waits 5 s for its next try: long enough to stop the host while nothing is in hand.
        var settings = new Dictionary<string, string?> { ["Sending:FirstRetryDelay"] = "00:00:05" };
        await using var first = new AppFactory(settings: settings, provider: database);
        var newsletter = await first.NewsletterAsync();
        await first.WelcomeAsync(newsletter);
        var (reader, doi) = await first.SignUpWithDoiAsync("leserin@example.test");
        // The server defers the reader's mail from now on: the confirmation commits with its welcome, which cannot leave.
        first.Smtp.Refuse["leserin@example.test"] = TestSmtpServer.Reply(451, "4.3.0 try again later");
        await WelcomeSteps.ConfirmAsync(reader, doi);
        await WaitUntilAsync(async () => await first.WithDbAsync(db => db.OutboundMessages.AnyAsync(m =>
            m.Kind == MessageKind.Welcome && m.Status == MessageStatus.Queued && m.Attempts == 1)));
        var queued = Assert.Single(await first.WelcomeRowsAsync());
        await first.StopHostAsync();
        await using (var db = TestDatabases.Open(first))
        {
            // As the crash left it: committed, queued for its next try, not in anybody's hand.
            Assert.Equal(MessageStatus.Queued, (await db.OutboundMessages.SingleAsync(m => m.Id == queued.Id)).Status);
            Assert.NotNull((await db.Subscribers.SingleAsync()).WelcomeQueuedAtUtc);
        }
        Assert.DoesNotContain(first.Smtp.Messages, m => m.MessageId == queued.MessageId);
        first.Smtp.Refuse.Clear();

        await using var second = new AppFactory(settings: settings, reuse: first);
        _ = second.Services; // the factory starts its host on first use: now, as a restarted process would
        var mail = await second.Smtp.WaitForAsync("leserin@example.test", "Willkommen", TimeSpan.FromSeconds(60));
        await second.OutboxIdleAsync();

        var row = Assert.Single(await second.WelcomeRowsAsync());
        Assert.Equal((MessageStatus.Sent, queued.MessageId), (row.Status, row.MessageId));
        Assert.Equal(mail.MessageId, Assert.Single(await second.WelcomesToAsync("leserin@example.test")).MessageId);
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_welcome_whose_lease_expired_while_the_server_was_taking_it_goes_again_with_the_same_message_id_and_stays_one_row(DatabaseProvider database)
    {
        // Leases last a day: only the second instance's clock (or, on PostgreSQL, the row's expiry moved back) ends one.
        var settings = new Dictionary<string, string?> { ["Sending:LeaseDuration"] = "1.00:00:00", ["Smtp:MaxConnections"] = "1" };
        await using var first = new AppFactory(settings: settings, provider: database);
        var newsletter = await first.NewsletterAsync();
        await first.WelcomeAsync(newsletter);
        var (reader, doi) = await first.SignUpWithDoiAsync("leserin@example.test");
        await first.OutboxIdleAsync();

        // A slow server: the first instance hands the welcome over and waits for the answer.
        first.Smtp.Delay = TimeSpan.FromSeconds(10);
        await WelcomeSteps.ConfirmAsync(reader, doi);
        await WaitUntilAsync(() => Task.FromResult(first.Smtp.Attempts.GetValueOrDefault("leserin@example.test") == 2)); // the DOI mail, then the welcome
        var leased = Assert.Single(await first.WelcomeRowsAsync());
        Assert.Equal(MessageStatus.Leased, leased.Status);
        first.Smtp.Delay = TimeSpan.Zero;

        // Meanwhile its lease runs out, and a second instance takes the row as it takes any expired row.
        var clock = new SettableClock();
        clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1));
        if (database == DatabaseProvider.Postgres)
        {
            await first.WithDbAsync(db => db.OutboundMessages.Where(m => m.Id == leased.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, DateTime.UtcNow - TimeSpan.FromMinutes(1))));
        }
        await using var second = new AppFactory(settings: settings, reuse: first, ownDataFolder: true) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        await WaitUntilAsync(() => second.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Id == leased.Id && m.Status == MessageStatus.Sent)));
        // The first instance's answer comes in after the second sent it: its result is not written over the second's.
        await first.Smtp.WaitUntilIdleAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(1));

        var row = Assert.Single(await second.WelcomeRowsAsync());
        Assert.Equal(MessageStatus.Sent, row.Status);
        Assert.NotEqual(leased.LeaseOwner, row.LeaseOwner);
        var copies = await second.WelcomesToAsync("leserin@example.test");
        Assert.True(copies.Count == 2, $"{copies.Count} cop(ies) arrived; the test wants the resend after the expired lease");
        Assert.All(copies, mail => Assert.Equal(row.MessageId, mail.MessageId));
    }

    /// <summary>Generous: a second host starting on a busy machine takes seconds; nothing here measures speed.</summary>
    private static Task WaitUntilAsync(Func<Task<bool>> condition) => ReaderSteps.WaitUntilAsync(condition, TimeSpan.FromSeconds(60));
}
