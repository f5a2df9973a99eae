using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C1 is guarded twice: the campaign fan-out writes rows only for confirmed readers, and the worker checks each
/// row again right before it sends. Each test here fails when its own guard is removed, whatever the other does:
/// the worker test writes the rows a faulty fan-out would write.
/// </summary>
public sealed class NoMailWithoutDoiTests
{
    private const string Subject = "Eilmeldung: Hochwasser am Fluss";

    [ProviderTheory, DatabaseProviders]
    public async Task The_fan_out_writes_rows_only_for_confirmed_readers_not_for_pending_unsubscribed_bounced_or_erased_ones_C1(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var readers = await ReadersInEveryStateAsync(app, newsletter);

        var id = await app.CampaignAsync(newsletter, Subject);

        // Right after the fan-out, before the worker has a say: the outbox holds the confirmed readers only.
        var rows = await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.CampaignId == id).Select(m => m.SubscriberId).ToListAsync());
        Assert.Equal(readers.Confirmed.Order(), rows.Select(r => r!.Value).Order());
        Assert.Equal(2, (await app.CampaignRowAsync(id)).RecipientCount);
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);
        Assert.Equal(["bestaetigt1@example.test", "bestaetigt2@example.test"], app.Smtp.Received(Subject).Keys.Order());
    }

    [ProviderTheory, DatabaseProviders]
    public async Task The_worker_sends_nothing_to_pending_unsubscribed_bounced_or_erased_readers_even_when_their_rows_are_queued_C1(DatabaseProvider database)
    {
        await using var app = new AppFactory(provider: database);
        var newsletter = await app.NewsletterAsync();
        var readers = await ReadersInEveryStateAsync(app, newsletter);
        var id = await app.CampaignAsync(newsletter, Subject, start: false);

        // What a faulty fan-out would write: a queued campaign row for each reader without a valid DOI.
        var planted = new List<long>();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var outbox = scope.ServiceProvider.GetRequiredService<Outbox>();
            var rows = readers.NotToBeMailed.Select(r => outbox.Queue(MessageKind.Campaign, newsletter.Id, r.Email, "de", r.Id, id)).ToList();
            await db.SaveChangesAsync();
            planted.AddRange(rows.Select(r => r.Id));
        }
        await app.WithCampaignsAsync(c => c.StartAsync(newsletter.Id, id, "redaktion@example.test"));
        await app.WaitForCampaignAsync(id, CampaignStatus.Sent);

        Assert.Equal(["bestaetigt1@example.test", "bestaetigt2@example.test"], app.Smtp.Received(Subject).Keys.Order());
        var ended = await app.WithDbAsync(db => db.OutboundMessages.Where(m => planted.Contains(m.Id)).ToListAsync());
        Assert.Equal(4, ended.Count);
        Assert.All(ended, m => Assert.Equal(MessageStatus.Cancelled, m.Status));
        Assert.All(ended, m => Assert.Null(m.SentAtUtc));
    }

    private sealed record Readers(List<Guid> Confirmed, List<(Guid Id, string Email)> NotToBeMailed);

    /// <summary>
    /// Two confirmed readers, and one each pending (never confirmed), unsubscribed, bounced (a 5.1.1 at RCPT TO
    /// on an earlier issue) and erased, each made the way the app makes them.
    /// </summary>
    private static async Task<Readers> ReadersInEveryStateAsync(AppFactory app, Newsletter newsletter)
    {
        await app.ConfirmedReadersAsync(newsletter, "bestaetigt1@example.test", "bestaetigt2@example.test",
            "abgemeldet@example.test", "unzustellbar@example.test", "geloescht@example.test");
        app.Smtp.RefuseAtRcpt["unzustellbar@example.test"] = TestSmtpServer.Reply(550, "5.1.1 User unknown");
        await app.WaitForCampaignAsync(await app.CampaignAsync(newsletter, "Vorab"), CampaignStatus.Sent);
        app.Smtp.RefuseAtRcpt.Clear();

        await app.ReaderClient().SignUpAsync("unbestaetigt@example.test");
        var all = await app.WithDbAsync(db => db.Subscribers.AsNoTracking().ToDictionaryAsync(s => s.EmailKey));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var unsubscriber = all["abgemeldet@example.test"];
            var token = scope.ServiceProvider.GetRequiredService<TokenService>().Create(TokenPurpose.Unsubscribe, unsubscriber.Id, unsubscriber.TokenGeneration);
            Assert.True(await scope.ServiceProvider.GetRequiredService<UnsubscribeService>().UnsubscribeAsync(token, WithdrawalChannel.Link));
            var erased = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Subscribers.SingleAsync(s => s.EmailKey == "geloescht@example.test");
            await scope.ServiceProvider.GetRequiredService<ErasureService>().EraseAsync(erased, WithdrawalChannel.Link, staffUser: null);
        }
        await app.OutboxIdleAsync();

        var now = await app.WithDbAsync(db => db.Subscribers.AsNoTracking().ToDictionaryAsync(s => s.EmailKey, s => s.Status));
        Assert.Equal(SubscriberStatus.Pending, now["unbestaetigt@example.test"]);
        Assert.Equal(SubscriberStatus.Unsubscribed, now["abgemeldet@example.test"]);
        Assert.Equal(SubscriberStatus.Bounced, now["unzustellbar@example.test"]);
        Assert.False(now.ContainsKey("geloescht@example.test"));
        string[] absent = ["unbestaetigt@example.test", "abgemeldet@example.test", "unzustellbar@example.test", "geloescht@example.test"];
        return new Readers(
            [all["bestaetigt1@example.test"].Id, all["bestaetigt2@example.test"].Id],
            absent.Select(e => (all[e].Id, e)).ToList());
    }
}
