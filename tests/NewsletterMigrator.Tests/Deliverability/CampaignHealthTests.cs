using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16, point 3: a sending campaign pauses itself when its complaint or hard-bounce rate reaches the configured
/// limit, once enough of its mails were accepted; the reason says the rates in words, and an editor who resumes is not
/// stopped again by the same events.
/// </summary>
public sealed class CampaignHealthTests
{
    private const string Subject = "Ausgabe mit Rücklauf";

    /// <summary>
    /// A campaign held in Sending with <paramref name="perHour"/> of its mails accepted: the hourly cap lets that many
    /// out, and the readers' confirmation mails went out in the hours before. Limits: 10 % complaints, 20 % hard bounces.
    /// </summary>
    private static async Task<(AppFactory App, SettableClock Clock, Newsletter Newsletter, int Campaign)> SendingAsync(int readers, int perHour, int minimum)
    {
        var clock = new SettableClock();
        var app = new AppFactory(settings: new()
        {
            ["Smtp:MessagesPerHour"] = perHour.ToString(),
            ["Bounces:PauseAtComplaintPercent"] = "10",
            ["Bounces:PauseAtHardBouncePercent"] = "20",
            ["Bounces:RateMinimumAccepted"] = minimum.ToString(),
        }) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var newsletter = await app.NewsletterAsync();
        foreach (var group in SendingTestData.Addresses(readers).Chunk(perHour))
        {
            await app.ConfirmedReadersAsync(newsletter, group);
            clock.Advance(TimeSpan.FromMinutes(61));
        }
        var campaign = await app.CampaignAsync(newsletter, Subject);
        await AcceptedAsync(app, campaign, perHour);
        return (app, clock, newsletter, campaign);
    }

    private static async Task AcceptedAsync(AppFactory app, int campaign, int count)
    {
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db =>
            db.OutboundMessages.CountAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent).ContinueWith(t => t.Result == count)));
        await Task.Delay(600); // a few poll intervals: nothing more may leave
        Assert.Equal(count, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent)));
    }

    private static async Task CheckAsync(AppFactory app, int campaign)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<CampaignHealth>().CheckAsync(campaign, CancellationToken.None);
    }

    private static Task<int> SelfPausesAsync(AppFactory app) =>
        app.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.UserName == CampaignHealth.Actor && a.Action == "pause"));

    [Fact]
    public async Task A_sending_campaign_pauses_itself_at_the_hard_bounce_limit_once_with_the_rates_in_words_and_not_below_it()
    {
        var (app, clock, newsletter, campaign) = await SendingAsync(readers: 20, perHour: 10, minimum: 10);
        await using var _ = app;
        var now = clock.GetUtcNow().UtcDateTime;

        // 1 in 10 is 10 %, below the 20 % limit; the complaints limit (10 %) is not reached either.
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, "leser001@example.test");
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);
        // Soft bounces and refusals of our sender are not what the limits weigh.
        await app.EventsAsync(5, DeliveryEventKind.SoftBounce, newsletter.Id, campaign, now);
        await app.EventsAsync(5, DeliveryEventKind.SenderRefusal, newsletter.Id, campaign, now);
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);

        // 2 in 10 is 20 %: at the limit. Checked by several deliveries at once, it pauses and is audited once.
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, "leser002@example.test");
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => CheckAsync(app, campaign))));
        var paused = await app.CampaignRowAsync(campaign);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        Assert.Equal("Die Ausgabe hat sich selbst pausiert: Rate dauerhaft unzustellbarer Mails 20 % (2 auf 10 abgeschickte Mails) "
            + "erreicht oder überschreitet die Grenze von 20 %. Wer fortsetzt, nimmt diese Zahlen zur Kenntnis; danach zählen nur neue Ereignisse.", paused.PauseReason);
        Assert.Equal(1, await SelfPausesAsync(app));
        var audit = await app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.UserName == CampaignHealth.Actor));
        Assert.Equal($"campaign {campaign}: 10 accepted, 10 sent, 0 complaints (0 %), 2 hard bounces (20 %); limits 10 % and 20 %", audit.Details);

        // The editor sees it on the report and on the dashboard, without any reader's address.
        var editor = await app.EditorAsync();
        var (status, report) = await editor.PageAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("Pausiert. Grund: Die Ausgabe hat sich selbst pausiert: Rate dauerhaft unzustellbarer Mails 20 %", report);
        Assert.DoesNotContain("leser00", report);
        Assert.Contains("Rate dauerhaft unzustellbarer Mails 20 %", (await editor.PageAsync("/admin")).Html);
    }

    [Fact]
    public async Task The_complaint_limit_pauses_too_and_neither_limit_before_the_minimum_of_accepted_mails()
    {
        var (app, clock, newsletter, campaign) = await SendingAsync(readers: 12, perHour: 10, minimum: 11);
        await using var _ = app;
        var now = clock.GetUtcNow().UtcDateTime;

        // 10 accepted, 11 needed: 5 complaints (50 %) and 5 hard bounces (50 %) do not pause yet.
        await app.EventsAsync(5, DeliveryEventKind.Complaint, newsletter.Id, campaign, now);
        await app.EventsAsync(5, DeliveryEventKind.HardBounce, newsletter.Id, campaign, now);
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);
        Assert.Equal(0, await SelfPausesAsync(app));

        // The next hour lets the last two out.
        clock.Advance(TimeSpan.FromMinutes(61));
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        // A finished campaign is not paused: there is nothing left to hold back.
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sent, (await app.CampaignRowAsync(campaign)).Status);
        Assert.Equal(0, await SelfPausesAsync(app));
    }

    [Fact]
    public async Task The_complaint_limit_pauses_a_campaign_and_names_its_rate()
    {
        var (app, clock, newsletter, campaign) = await SendingAsync(readers: 20, perHour: 10, minimum: 10);
        await using var _ = app;
        // 1 complaint in 10 is 10 %: the configured complaint limit.
        await app.EventAsync(DeliveryEventKind.Complaint, newsletter.Id, campaign, clock.GetUtcNow().UtcDateTime);
        await CheckAsync(app, campaign);
        var paused = await app.CampaignRowAsync(campaign);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        Assert.Contains("Beschwerderate 10 % (1 Beschwerden auf 10 angenommene Mails) erreicht oder überschreitet die Grenze von 10 %.", paused.PauseReason);
        Assert.DoesNotContain("unzustellbar", paused.PauseReason);
    }

    [Fact]
    public async Task After_a_resume_only_new_events_against_newly_accepted_mails_count()
    {
        var (app, clock, newsletter, campaign) = await SendingAsync(readers: 25, perHour: 10, minimum: 10);
        await using var _ = app;
        await app.EventsAsync(5, DeliveryEventKind.HardBounce, newsletter.Id, campaign, clock.GetUtcNow().UtcDateTime);
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Paused, (await app.CampaignRowAsync(campaign)).Status);

        // The editor has read the figures and goes on: the same five bounces (50 %) do not pause it again at once ...
        clock.Advance(TimeSpan.FromSeconds(1));
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, campaign, "redaktion@example.test"));
        var resumedAt = clock.GetUtcNow().UtcDateTime;
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);
        // ... nor once the next hour's mails went out (counted over the whole campaign they would be 5 in 20, 25 %).
        clock.Advance(TimeSpan.FromMinutes(61));
        await AcceptedAsync(app, campaign, 20);
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);
        Assert.Equal(1, await SelfPausesAsync(app));

        // Late reports about mails sent before the resume are part of what the editor acknowledged: five more bounces of
        // old mails (counted against the 10 mails since they would be 50 %) do not pause it.
        var mails = await SentMailsAsync(app, campaign);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var old in mails.Where(m => m.SentAtUtc < resumedAt).Take(5))
            await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, mailId: old.Id);
        await CheckAsync(app, campaign);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaign)).Status);

        // New trouble after the resume at the limit (2 of the 10 mails sent since) pauses it again.
        foreach (var fresh in mails.Where(m => m.SentAtUtc >= resumedAt).Take(2))
            await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, mailId: fresh.Id);
        await CheckAsync(app, campaign);
        var paused = await app.CampaignRowAsync(campaign);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        Assert.Contains("20 % (2 auf 10 abgeschickte Mails)", paused.PauseReason);
        Assert.Equal(2, await SelfPausesAsync(app));
    }

    [Fact]
    public async Task A_resume_after_a_pause_for_another_reason_does_not_start_the_count_afresh()
    {
        var (app, clock, newsletter, campaign) = await SendingAsync(readers: 20, perHour: 10, minimum: 10);
        await using var _ = app;
        var now = clock.GetUtcNow().UtcDateTime;
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, "leser001@example.test");
        await CheckAsync(app, campaign);

        // The editor pauses and resumes by hand (or after a refusal of our sender): the rates were not what stopped the
        // campaign, so nobody acknowledged them, and the next bounce of an earlier mail (2 in 10, 20 %) pauses it.
        await app.WithCampaignsAsync(c => c.PauseAsync(newsletter.Id, campaign, "redaktion@example.test"));
        clock.Advance(TimeSpan.FromSeconds(1));
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, campaign, "redaktion@example.test"));
        var early = (await SentMailsAsync(app, campaign))[1];
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, clock.GetUtcNow().UtcDateTime, mailId: early.Id);
        await CheckAsync(app, campaign);
        var paused = await app.CampaignRowAsync(campaign);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        Assert.Contains("20 % (2 auf 10 abgeschickte Mails)", paused.PauseReason);
    }

    /// <summary>
    /// The real SMTP path with low limits: the check runs after the delivery results are committed, so the refusal that
    /// reaches the limit pauses the campaign instead of failing the whole flush (which left sent rows leased, to be sent
    /// again once the lease expired). The denominator is every mail handed over, refused ones included: 1 in 30.
    /// </summary>
    [Fact]
    public async Task A_reader_refused_at_RCPT_in_a_real_send_pauses_the_campaign_at_the_limit_and_no_reader_gets_a_mail_twice()
    {
        await using var app = new AppFactory(settings: new()
        {
            ["Bounces:RateMinimumAccepted"] = "1",
            ["Bounces:PauseAtHardBouncePercent"] = "1",
        });
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(30);
        await app.ConfirmedReadersAsync(newsletter, readers);
        var refused = readers[^1];
        app.Smtp.RefuseAtRcpt[refused] = TestSmtpServer.Reply(550, "5.1.1 <" + refused + ">: user unknown");
        var campaign = await app.CampaignAsync(newsletter, Subject);

        var paused = await app.WaitForCampaignAsync(campaign, CampaignStatus.Paused);
        Assert.Equal("Die Ausgabe hat sich selbst pausiert: Rate dauerhaft unzustellbarer Mails 3,33 % (1 auf 30 abgeschickte Mails) "
            + "erreicht oder überschreitet die Grenze von 1 %. Wer fortsetzt, nimmt diese Zahlen zur Kenntnis; danach zählen nur neue Ereignisse.", paused.PauseReason);
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Status == MessageStatus.Leased)).ContinueWith(t => !t.Result));
        Assert.Equal(SubscriberStatus.Bounced, (await app.WithDbAsync(db => db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == refused))).Status);
        Assert.Equal(1, await SelfPausesAsync(app));
        Assert.Equal(29, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent)));
        Assert.All(app.Smtp.Messages.Where(m => m.Subject == Subject).GroupBy(m => m.To.Mailboxes.Single().Address), g => Assert.Single(g));
    }

    /// <summary>
    /// The mailbox path with low limits: the report's effects run in the processor's transaction, and the check joins it,
    /// so the complaint or bounce that reaches the limit pauses the campaign and its own effect is kept (C12, C37).
    /// </summary>
    [Theory]
    [InlineData(ReportKind.Complaint)]
    [InlineData(ReportKind.HardBounce)]
    public async Task A_report_from_the_mailbox_that_reaches_the_limit_pauses_the_campaign_and_keeps_its_own_effect(ReportKind kind)
    {
        await using var app = new AppFactory(settings: new()
        {
            ["Bounces:ReturnPathDomain"] = "bounces.tagblatt.example.test",
            ["Bounces:RateMinimumAccepted"] = "1",
            ["Bounces:PauseAtComplaintPercent"] = "1",
            ["Bounces:PauseAtHardBouncePercent"] = "1",
        });
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "genervt@example.test", "spaeter@example.test");
        // One reader's server defers the mail, so the campaign is still sending when the report comes.
        app.Smtp.Refuse["spaeter@example.test"] = TestSmtpServer.Reply(451, "4.3.0 try again later");
        var campaign = await app.CampaignAsync(newsletter, Subject);
        var mail = await app.Smtp.WaitForAsync("genervt@example.test", Subject);
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent)));
        var report = kind == ReportKind.Complaint
            ? new ClassifiedReport(kind, "genervt@example.test", OriginalMessageId: $"<{mail.MessageId}>", FeedbackType: "abuse")
            : new ClassifiedReport(kind, "genervt@example.test", "5.1.1", "smtp; 550 5.1.1 user unknown", Addressees: [app.Smtp.EnvelopeSender(mail)]);

        ReportEffect effect;
        await using (var scope = app.Services.CreateAsyncScope())
            effect = await scope.ServiceProvider.GetRequiredService<ReportEffects>().ApplyAsync(report);

        Assert.Equal(kind, effect.Kind);
        var paused = await app.CampaignRowAsync(campaign);
        Assert.Equal(CampaignStatus.Paused, paused.Status);
        Assert.Contains(kind == ReportKind.Complaint ? "Beschwerderate 100 %" : "unzustellbarer Mails 100 %", paused.PauseReason);
        var reader = await app.WithDbAsync(db => db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == "genervt@example.test"));
        Assert.Equal(kind == ReportKind.Complaint ? SubscriberStatus.Unsubscribed : SubscriberStatus.Bounced, reader.Status);
        var hash = SuppressionHash.Email(app.Service<KeyRing>(), "genervt@example.test");
        Assert.True(await app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Email && s.Hash == hash)));
        Assert.Equal(1, await SelfPausesAsync(app));
        app.Smtp.Refuse.Clear();
    }

    private static Task<List<OutboundMessage>> SentMailsAsync(AppFactory app, int campaign) => app.WithDbAsync(db =>
        db.OutboundMessages.AsNoTracking().Where(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent).OrderBy(m => m.SentAtUtc).ThenBy(m => m.Id).ToListAsync());

    [Theory]
    [InlineData("Bounces:PauseAtComplaintPercent", "0")]
    [InlineData("Bounces:PauseAtHardBouncePercent", "101")]
    [InlineData("Bounces:RateMinimumAccepted", "0")]
    public async Task A_wrong_limit_stops_the_start_naming_its_key(string key, string value)
    {
        await using var app = new AppFactory(settings: new() { [key] = value }) { TwoFactorPolicy = null };
        // What Program runs first, before migrating or serving: a wrong setting stops the start with its key named.
        var error = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(error.Failures, f => f.StartsWith(key + " must be", StringComparison.Ordinal));
    }
}
