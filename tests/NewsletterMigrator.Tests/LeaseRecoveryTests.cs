using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 10: a process dies mid-send and starts again on the same data folder. What it held goes
/// out at once, not after Sending:LeaseDuration; leases of another instance, or of a process that cannot prove the
/// data folder's instance id is its own, wait until they expire. The leases last a day here, so that no lease can
/// expire on the real clock while a test runs: only the take-back at start, or the test's clock, hands a row out again.
/// </summary>
public sealed class LeaseRecoveryTests
{
    private const string Subject = "Eilmeldung: Brückensperrung ab Montag";

    /// <summary>Far longer than any test runs: a row that waits for its lease to expire on the real clock never goes out.</summary>
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromDays(1);

    /// <summary>One connection and one batch: the host stops with the rest of the batch leased.</summary>
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Smtp:MaxConnections"] = "1",
        ["Sending:BatchSize"] = "20",
        ["Sending:LeaseDuration"] = LeaseDuration.ToString(),
    };

    /// <summary>
    /// How long the take-back may take on a busy machine. Generous, since it proves nothing about speed: with
    /// day-long leases, a row that goes out within it was taken back, not expired.
    /// </summary>
    private static readonly TimeSpan Promptly = TimeSpan.FromMinutes(2);

    [ProviderTheory, DatabaseProviders]
    public async Task A_restarted_instance_sends_at_once_the_mail_it_held_when_it_stopped_mid_send(DatabaseProvider database)
    {
        await using var first = new AppFactory(settings: Settings, provider: database);
        var (id, readers) = await StopMidSendAsync(first);

        await using var second = new AppFactory(settings: Settings, reuse: first);
        await second.WaitForCampaignAsync(id, CampaignStatus.Sent, Promptly);

        // Every reader has the mail; a row that was in its SMTP transaction at the stop may have gone twice, with one Message-ID.
        var received = second.Smtp.Received(Subject);
        Assert.Equal(readers.Order(), received.Keys.Order());
        var rows = await second.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Where(m => m.CampaignId == id).ToListAsync());
        Assert.All(rows, row => Assert.All(received[row.ToAddress], mail => Assert.Equal(row.MessageId, mail.MessageId)));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Leases_held_by_another_instance_are_not_taken_back_at_start_but_only_once_they_expire(DatabaseProvider database)
    {
        await using var first = new AppFactory(settings: Settings, provider: database);
        var (id, _) = await StopMidSendAsync(first);
        // Half of what the stopped run held now belongs to another instance (PostgreSQL: a second server still sending).
        var foreignOwner = $"{Guid.NewGuid():N}/{Guid.NewGuid():N}";
        var foreign = await WithDatabaseAsync(first, async db =>
        {
            var leased = await db.OutboundMessages.Where(m => m.CampaignId == id && m.Status == MessageStatus.Leased).OrderBy(m => m.Id).Select(m => m.Id).ToListAsync();
            // The later half: the first leased row may have been in its SMTP transaction when the host stopped.
            var theirs = leased.Skip(leased.Count / 2).ToList();
            await db.OutboundMessages.Where(m => theirs.Contains(m.Id)).ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseOwner, foreignOwner));
            return await db.OutboundMessages.Where(m => theirs.Contains(m.Id)).Select(m => m.ToAddress).ToListAsync();
        });
        Assert.NotEmpty(foreign);

        var clock = new SettableClock();
        await using var second = new AppFactory(settings: Settings, reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var ownRowsSent = await WaitForAsync(second, async db => !await db.OutboundMessages.AnyAsync(m =>
            m.CampaignId == id && (m.Status == MessageStatus.Queued || (m.Status == MessageStatus.Leased && m.LeaseOwner != foreignOwner))));
        Assert.True(ownRowsSent, "the instance's own leases did not go out promptly");

        // The other instance's rows are still its own, and their readers have heard nothing.
        var stillTheirs = await second.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.LeaseOwner == foreignOwner && m.Status == MessageStatus.Leased));
        Assert.Equal(foreign.Count, stillTheirs);
        Assert.Empty(second.Smtp.Received(Subject).Keys.Intersect(foreign));

        // Once their lease has expired they are anyone's, as before.
        await LeasesExpireAsync(second, clock);
        await second.WaitForCampaignAsync(id, CampaignStatus.Sent, Promptly);
        Assert.Subset(second.Smtp.Received(Subject).Keys.ToHashSet(), foreign.ToHashSet());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_second_process_on_the_same_data_folder_cannot_claim_the_instance_id_and_leaves_its_leases_to_expire(DatabaseProvider database)
    {
        await using var first = new AppFactory(settings: Settings, provider: database);
        var (id, readers) = await StopMidSendAsync(first);
        var leased = await WithDatabaseAsync(first, db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Status == MessageStatus.Leased));
        var receivedBefore = first.Smtp.Received(Subject).Values.Sum(mails => mails.Count);

        // Another process has the data folder open (the id file locked): the leases under its id may be alive.
        var clock = new SettableClock();
        await using var second = new AppFactory(settings: Settings, reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        using (var other = Identity(first.DataDirectory))
        {
            Assert.True(other.OwnsPersistedId);
            // A mail queued after start that has gone out shows the worker is past its take-back step, which runs
            // before its first batch: whatever it was going to take back, it has taken by now.
            await SignUpAsync(second, "spaeter@example.test");
            await second.Smtp.WaitForAsync("spaeter@example.test", "bestätigen", Promptly);
            Assert.False(second.Service<InstanceIdentity>().OwnsPersistedId);
        }
        Assert.Equal(leased, await second.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Status == MessageStatus.Leased)));
        Assert.Equal(receivedBefore, second.Smtp.Received(Subject).Values.Sum(mails => mails.Count)); // their readers got nothing

        await LeasesExpireAsync(second, clock);
        await second.WaitForCampaignAsync(id, CampaignStatus.Sent, Promptly);
        Assert.Equal(readers.Order(), second.Smtp.Received(Subject).Keys.Order());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task A_restarted_instance_sends_at_once_the_WhatsApp_invitations_it_held_and_another_instances_only_once_they_expire(DatabaseProvider database)
    {
        await using var graph = new FakeGraphApi();
        // The first run's own worker stays off: the leases are written the way it would have left them when it died.
        await using var first = new AppFactory(settings: WhatsAppSettings(graph, enabled: false), provider: database);
        var newsletter = await first.NewsletterAsync();
        await first.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        await first.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        var ownOwner = first.Service<InstanceIdentity>().NewLeaseOwner();
        var foreignOwner = $"{Guid.NewGuid():N}/{Guid.NewGuid():N}";
        var (own, theirs) = await first.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            var contacts = await db.Contacts.OrderBy(c => c.Id).Select(c => c.Id).ToListAsync();
            var rows = contacts.Select((contact, i) => new WhatsAppMessage
            {
                ContactId = contact, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Leased, LeaseOwner = i == 0 ? ownOwner : foreignOwner,
                LeaseExpiresAtUtc = now + LeaseDuration, CreatedAtUtc = now, NextAttemptAtUtc = now, RequestedBy = "test",
            }).ToList();
            db.WhatsAppMessages.AddRange(rows);
            await db.SaveChangesAsync();
            return (rows[0].Id, rows[1].Id);
        });
        await first.StopHostAsync(); // the crash: a graceful stop of a worker that was off, the rows leased as a kill would leave them

        var clock = new SettableClock();
        await using var second = new AppFactory(settings: WhatsAppSettings(graph, enabled: true), reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        Assert.True(await WaitForAsync(second, db => db.WhatsAppMessages.AnyAsync(m => m.Id == own && m.Status == WhatsAppStatus.Accepted)),
            "the instance's own lease did not go out promptly");
        Assert.Single(graph.Requests);
        Assert.Equal(foreignOwner, await second.WithDbAsync(db => db.WhatsAppMessages.Where(m => m.Id == theirs && m.Status == WhatsAppStatus.Leased).Select(m => m.LeaseOwner).SingleAsync()));

        await LeasesExpireAsync(second, clock);
        Assert.True(await WaitForAsync(second, db => db.WhatsAppMessages.AnyAsync(m => m.Id == theirs && m.Status == WhatsAppStatus.Accepted)),
            "the other instance's lease did not go out after it expired");
        Assert.Equal(2, graph.Requests.Count);
    }

    [Fact]
    public async Task A_retention_run_the_process_died_in_is_marked_interrupted_and_repeated_at_restart_not_a_day_later_C15()
    {
        await using var first = new AppFactory();
        var newsletter = await first.NewsletterAsync();
        await SignUpAsync(first, "nie-bestaetigt@example.test", newsletter);
        // The daily run had begun when the process died: a started run without an end.
        var crashed = await first.WithDbAsync(async db =>
        {
            var run = new RetentionRun { StartedAtUtc = DateTime.UtcNow, Trigger = "schedule" };
            db.RetentionRuns.Add(run);
            await db.SaveChangesAsync();
            return run.Id;
        });
        await first.StopHostAsync(); // the crash: a graceful stop, the run left unfinished as a kill would leave it

        // The process comes back after the unconfirmed period (C15) has passed for the pending sign-up.
        var clock = new SettableClock();
        clock.Advance(new RetentionOptions().UnconfirmedAfter + TimeSpan.FromDays(1));
        await using var second = new AppFactory(reuse: first) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        Assert.True(await WaitForAsync(second, db => db.RetentionRuns.AnyAsync(r => r.Trigger == "restart" && r.FinishedAtUtc != null)),
            "the interrupted retention run was not repeated at start");

        Assert.False(await second.WithDbAsync(db => db.Subscribers.AnyAsync()));
        var marked = await second.WithDbAsync(db => db.RetentionRuns.SingleAsync(r => r.Id == crashed));
        Assert.Equal(RetentionWorker.InterruptedError, marked.Error);
        Assert.NotNull(marked.FinishedAtUtc);
    }

    /// <summary>
    /// Time passes beyond every lease. Due times run on the app's clock, the test's; on PostgreSQL leases expire by the
    /// database's clock (several hosts, one clock: IBulkSql.LeaseClockAsync), which a test cannot move, so there the
    /// leases' expiry moves into the past instead.
    /// </summary>
    private static async Task LeasesExpireAsync(AppFactory app, SettableClock clock)
    {
        clock.Advance(LeaseDuration + TimeSpan.FromSeconds(1));
        if (app.Provider != DatabaseProvider.Postgres) return;
        var past = DateTime.UtcNow - TimeSpan.FromMinutes(1);
        await app.WithDbAsync(async db =>
            await db.OutboundMessages.Where(m => m.Status == MessageStatus.Leased).ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, past))
            + await db.WhatsAppMessages.Where(m => m.Status == WhatsAppStatus.Leased).ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseExpiresAtUtc, past)));
    }

    /// <summary>A reader signs up (no confirmation): one double opt-in mail is queued.</summary>
    private static async Task SignUpAsync(AppFactory app, string email, Newsletter? newsletter = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        newsletter ??= await scope.ServiceProvider.GetRequiredService<AppDbContext>().Newsletters.SingleAsync();
        var text = await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ForReaderAsync(newsletter, "de");
        await scope.ServiceProvider.GetRequiredService<SignUpService>()
            .SignUpAsync(new SignUpRequest(newsletter, text!, email, "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true });
    }

    private static Dictionary<string, string?> WhatsAppSettings(FakeGraphApi graph, bool enabled)
    {
        var settings = graph.Settings(enabled);
        settings["WhatsApp:LeaseDuration"] = LeaseDuration.ToString();
        return settings;
    }

    [Fact]
    public void The_instance_id_survives_a_restart_and_is_held_by_one_process_at_a_time()
    {
        var folder = Directory.CreateTempSubdirectory("nm-instance-").FullName;
        try
        {
            string id;
            using (var first = Identity(folder))
            {
                id = first.Id;
                Assert.True(first.OwnsPersistedId);
                Assert.StartsWith(first.EarlierRunsPrefix!, first.NewLeaseOwner());
                using var second = Identity(folder);
                Assert.False(second.OwnsPersistedId);
                Assert.NotEqual(id, second.Id);
                Assert.Null(second.EarlierRunsPrefix);
            }
            using var restarted = Identity(folder);
            Assert.True(restarted.OwnsPersistedId);
            Assert.Equal(id, restarted.Id);
            Assert.NotEqual(restarted.NewLeaseOwner(), restarted.NewLeaseOwner());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static InstanceIdentity Identity(string folder) =>
        new(Options.Create(new AppOptions { DataDirectory = folder }), NullLogger<InstanceIdentity>.Instance);

    /// <summary>Starts a campaign to a dozen readers on a slow server and stops the host after two have their mail.</summary>
    private static async Task<(int CampaignId, string[] Readers)> StopMidSendAsync(AppFactory first)
    {
        var newsletter = await first.NewsletterAsync();
        var readers = SendingTestData.Addresses(12);
        await first.ConfirmedReadersAsync(newsletter, readers);
        first.Smtp.Delay = TimeSpan.FromMilliseconds(300);
        var id = await first.CampaignAsync(newsletter, Subject);
        await SendingEngineTests.WaitUntilAsync(() => first.Smtp.Received(Subject).Count >= 2);
        // The crash: a graceful stop, which leaves the rows in hand leased as a kill would (nothing releases leases on stop).
        await first.StopHostAsync();
        // A message handed over just before the stop is recorded once the slow server answers it; counts read before would miss it.
        await first.Smtp.WaitUntilIdleAsync();
        first.Smtp.Delay = TimeSpan.Zero;
        var leased = await WithDatabaseAsync(first, db => db.OutboundMessages.CountAsync(m => m.CampaignId == id && m.Status == MessageStatus.Leased));
        Assert.True(leased >= 4, $"only {leased} row(s) were left leased; the test proves nothing");
        return (id, readers);
    }

    /// <summary>The database of a host that has stopped, opened the way its successor will open it.</summary>
    private static async Task<TResult> WithDatabaseAsync<TResult>(AppFactory stopped, Func<AppDbContext, Task<TResult>> query)
    {
        await using var db = TestDatabases.Open(stopped);
        return await query(db);
    }

    /// <summary>Polls a condition on the second host's database until it holds or the time is up.</summary>
    private static async Task<bool> WaitForAsync(AppFactory app, Func<AppDbContext, Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Promptly;
        while (DateTime.UtcNow < deadline)
        {
            if (await app.WithDbAsync(condition)) return true;
            await Task.Delay(100);
        }
        return false;
    }
}
