using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Dashboard;

/// <summary>
/// Issue 15, point 5: the dashboard's "needs your attention" block. Each item appears while its condition holds and goes
/// when it no longer does, in German and in English; editors see what concerns them, without SMTP replies or backups.
/// </summary>
public sealed class AttentionTests
{
    private const string Reader = "leserin@example.test";

    [Fact]
    public async Task A_campaign_paused_by_a_refused_sender_shows_with_its_reason_until_it_is_resumed()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        var admin = await app.AdminAsync();
        var editor = await app.EditorAsync();
        Assert.DoesNotContain("id=\"attention\"", await PageAsync(admin, "de"));

        app.Smtp.RefuseSender = TestSmtpServer.Reply(550, "5.7.1 sender not authorised");
        var campaign = await app.CampaignAsync(newsletter, "Ausgabe mit Absenderproblem");
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Paused);

        var de = await PageAsync(admin, "de");
        Assert.Contains("Bitte kümmern Sie sich darum", de);
        Assert.Contains("Ausgabe „Ausgabe mit Absenderproblem“ (Tagblatt Eilmeldungen) ist pausiert.", de);
        Assert.Contains("Grund: sender refused: 550 5.7.1 sender not authorised", de);
        Assert.Contains($"/admin/campaigns/{newsletter.Id}/report/{campaign}", de);
        var en = await PageAsync(admin, "en");
        Assert.Contains("Needs your attention", en);
        Assert.Contains("Issue “Ausgabe mit Absenderproblem” (Tagblatt Eilmeldungen) is paused.", en);
        Assert.Contains("Reason: sender refused", en);
        // The editor works on the campaign: it concerns them too.
        Assert.Contains("ist pausiert", await PageAsync(editor, "de"));

        app.Smtp.RefuseSender = null;
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, campaign, "redaktion@example.test"));
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        Assert.DoesNotContain("ist pausiert", await PageAsync(admin, "de"));
        Assert.DoesNotContain("id=\"attention\"", await PageAsync(admin, "en"));
    }

    [Fact]
    public async Task Mail_waiting_for_a_retry_while_the_SMTP_server_is_down_shows_with_the_last_reply_for_admins_until_it_is_delivered()
    {
        await using var app = new AppFactory(settings: new() { ["Sending:FirstRetryDelay"] = "00:00:03" });
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var editor = await app.EditorAsync();

        await app.Smtp.StopAsync();
        await app.SignUpAsync("/n/eilmeldungen", Reader);
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Attempts > 0 && m.Status == MessageStatus.Queued)));

        var de = await PageAsync(admin, "de");
        Assert.Contains("1 Mail(s) warten auf einen neuen Versuch", de);
        Assert.Contains("Letzte Antwort des Mailservers:", de);
        Assert.Contains("connection: ", de);
        var en = await PageAsync(admin, "en");
        Assert.Contains("1 mail(s) are waiting for another try", en);
        Assert.Contains("The mail server's last reply:", en);
        // Editors learn that mail is stuck, not what the server said (a reply may quote an address).
        var editorPage = await PageAsync(editor, "de");
        Assert.Contains("1 Mail(s) warten auf einen neuen Versuch", editorPage);
        Assert.DoesNotContain("Letzte Antwort des Mailservers", editorPage);

        app.Smtp.Start();
        await app.OutboxIdleAsync();
        Assert.DoesNotContain("id=\"attention-smtp\"", await PageAsync(admin, "de"));
        Assert.DoesNotContain("waiting for another try", await PageAsync(admin, "en"));
    }

    [Fact]
    public async Task A_mail_refused_for_good_counts_for_an_hour_and_a_refused_recipient_does_not_count_at_all()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();

        app.Smtp.Refuse["inhalt@example.test"] = TestSmtpServer.Reply(554, "5.6.0 message content rejected");
        app.Smtp.RefuseAtRcpt["unbekannt@example.test"] = TestSmtpServer.Reply(550, "5.1.1 no such user");
        await app.SignUpAsync("/n/eilmeldungen", "inhalt@example.test");
        await app.SignUpAsync("/n/eilmeldungen", "unbekannt@example.test");
        await app.OutboxIdleAsync();
        Assert.Equal(2, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Status == MessageStatus.Failed)));

        var de = await PageAsync(admin, "de");
        Assert.Contains("1 Mail(s) sind in der letzten Stunde endgültig gescheitert", de);
        Assert.Contains("554 5.6.0 message content rejected", de);
        Assert.DoesNotContain("no such user", de);
        Assert.Contains("1 mail(s) failed for good in the last hour", await PageAsync(admin, "en"));

        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.DoesNotContain("endgültig gescheitert", await PageAsync(admin, "de"));
        Assert.DoesNotContain("failed for good", await PageAsync(admin, "en"));
    }

    [Fact]
    public async Task A_campaign_mail_refused_more_than_an_hour_after_the_campaign_started_counts_from_when_it_failed_with_its_reply_as_the_last()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        var admin = await app.AdminAsync();

        // The campaign starts and stops at its first mail: the row keeps the campaign's start as its due time.
        app.Smtp.RefuseSender = TestSmtpServer.Reply(550, "5.7.1 sender not authorised");
        var campaign = await app.CampaignAsync(newsletter, "Ausgabe mit spätem Fehler");
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Paused);
        app.Smtp.RefuseSender = null;

        // 50 minutes later a sign-up mail fails for good; 20 minutes after that the resumed campaign's mail does.
        clock.Advance(TimeSpan.FromMinutes(50));
        app.Smtp.Refuse["inhalt@example.test"] = TestSmtpServer.Reply(554, "5.6.0 sign-up mail rejected");
        await app.SignUpAsync("/n/eilmeldungen", "inhalt@example.test");
        await ReaderSteps.WaitUntilAsync(() => app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Kind == MessageKind.DoubleOptIn && m.Status == MessageStatus.Failed)));
        clock.Advance(TimeSpan.FromMinutes(20));
        app.Smtp.Refuse[Reader] = TestSmtpServer.Reply(554, "5.6.0 newsletter rejected");
        await app.WithCampaignsAsync(c => c.ResumeAsync(newsletter.Id, campaign, "redaktion@example.test"));
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        Assert.Equal(MessageStatus.Failed, await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.CampaignId == campaign).Select(m => m.Status).SingleAsync()));

        var de = await PageAsync(admin, "de");
        Assert.Contains("2 Mail(s) sind in der letzten Stunde endgültig gescheitert", de);
        Assert.Contains("554 5.6.0 newsletter rejected", de);
        Assert.DoesNotContain("sign-up mail rejected", de);

        // An hour after the campaign's failure (and more after the sign-up mail's) neither counts any more.
        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.DoesNotContain("endgültig gescheitert", await PageAsync(admin, "de"));
    }

    [Fact]
    public async Task A_sign_up_mail_due_for_more_than_fifteen_minutes_says_that_nothing_is_sending()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory
        {
            // No delivery worker: the state of an installation where nothing sends.
            TestServices = s =>
            {
                s.AddSingleton<TimeProvider>(clock);
                s.Remove(s.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DeliveryWorker)));
            },
        };
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        await app.SignUpAsync("/n/eilmeldungen", Reader);

        clock.Advance(TimeSpan.FromMinutes(14));
        Assert.DoesNotContain("id=\"attention-mail-waiting\"", await PageAsync(admin, "de"));

        clock.Advance(TimeSpan.FromMinutes(2));
        var de = await PageAsync(admin, "de");
        Assert.Contains("Bestätigungs- oder Link-Mails warten seit", de);
        Assert.Contains("Es wird gerade nichts versendet", de);
        Assert.Contains("nothing is being sent", await PageAsync(admin, "en"));

        await app.WithDbAsync(db => db.OutboundMessages.ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, MessageStatus.Sent)));
        Assert.DoesNotContain("id=\"attention-mail-waiting\"", await PageAsync(admin, "de"));
    }

    [Fact]
    public async Task The_last_backups_age_shows_for_admins_once_a_backup_ran_and_warns_when_it_is_older_than_26_hours()
    {
        await using var app = new AppFactory();
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var editor = await app.EditorAsync();
        Assert.DoesNotContain("id=\"last-backup\"", await PageAsync(admin, "de"));
        Assert.DoesNotContain("id=\"attention-backup\"", await PageAsync(admin, "de"));

        await AddBackupRunAsync(app, DateTime.UtcNow.AddHours(-30));
        var de = await PageAsync(admin, "de");
        Assert.Contains("id=\"attention-backup\"", de);
        Assert.Contains("Die letzte Sicherung ist vom", de);
        Assert.Contains("(vor 30 Stunden)", de);
        Assert.Contains("The last backup is from", await PageAsync(admin, "en"));
        Assert.DoesNotContain("Sicherung", await PageAsync(editor, "de"));

        await AddBackupRunAsync(app, DateTime.UtcNow.AddHours(-2));
        de = await PageAsync(admin, "de");
        Assert.DoesNotContain("id=\"attention-backup\"", de);
        Assert.DoesNotContain("id=\"attention\"", de);
        Assert.Contains("Letzte Sicherung:", de);
        Assert.Contains("(vor 2 Stunden)", de);
        Assert.Contains("Last backup:", await PageAsync(admin, "en"));
    }

    [Fact]
    public async Task Withdrawals_by_mail_have_no_queue_so_the_dashboard_names_the_unread_mailbox_and_when_staff_last_recorded_one_C44()
    {
        await using var app = new AppFactory(settings: new() { ["Sending:UnsubscribeMailbox"] = "abmelden@tagblatt.example.test" });
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        var editor = await app.EditorAsync();
        var de = await PageAsync(editor, "de");
        Assert.Contains("Abmeldungen per E-Mail gehen an abmelden@tagblatt.example.test", de);
        Assert.DoesNotContain("Zuletzt erfasst", de);

        await using (var scope = app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<InformalWithdrawals>().RecordAsync(Reader, WithdrawalChannel.Mail, "editor@example.test");
        Assert.Contains("Zuletzt erfasst:", await PageAsync(editor, "de"));
        var en = await PageAsync(editor, "en");
        Assert.Contains("Unsubscribes by email go to abmelden@tagblatt.example.test", en);
        Assert.Contains("Last recorded:", en);
        Assert.DoesNotContain(Reader, en);
    }

    private static Task AddBackupRunAsync(AppFactory app, DateTime finishedUtc) => app.WithDbAsync(async db =>
    {
        db.BackupRuns.Add(new BackupRun { StartedAtUtc = finishedUtc.AddMinutes(-1), FinishedAtUtc = finishedUtc, FileName = "/backup/sicherung.zip", SizeBytes = 1, Counts = "{}" });
        return await db.SaveChangesAsync();
    });

    /// <summary>The dashboard as the signed-in staff member sees it in that language, HTML-decoded.</summary>
    internal static async Task<string> PageAsync(HttpClient staff, string language)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin");
        request.Headers.AcceptLanguage.ParseAdd(language);
        using var response = await staff.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }
}
