using System.Net;
using System.Text;
using MailKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Deliverability;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;
using static NewsletterMigrator.Tests.Dashboard.AttentionTests;

namespace NewsletterMigrator.Tests.Dashboard;

/// <summary>
/// Issue 16 on the dashboard: the mails in the bounce mailbox that wait for a person, with the age of the oldest (C44),
/// a mailbox the app cannot reach, and refusals of our sender that the mailboxes reported later (C37).
/// </summary>
public sealed class MailboxAttentionTests
{
    [DovecotFact]
    public async Task Mails_left_for_a_person_show_with_the_oldest_arrival_until_staff_move_them_out_of_the_folder_C44()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        var arrived = new DateTimeOffset(DateTime.UtcNow.AddDays(-2).Date.AddHours(8), TimeSpan.Zero);
        await dovecot.AppendAsync([Encoding.UTF8.GetBytes(BounceMails.Question(1).ReplaceLineEndings("\r\n"))], arrived);
        await using var app = new AppFactory(settings: dovecot.Settings(("Bounces:Imap:LeaseDuration", "00:00:03"),
            ("Sending:UnsubscribeMailbox", "abmelden@tagblatt.example.test"))).Started();
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var editor = await app.EditorAsync();
        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 1, "the question is counted");

        var de = await PageAsync(editor, "de");
        Assert.Contains("1 E-Mail(s) im Bounce-Postfach warten auf einen Menschen (Ordner „NeedsAttention“), die älteste seit", de);
        Assert.Contains(Common.Berlin.Format(arrived.UtcDateTime), de);
        Assert.Contains("Die App liest das Bounce-Postfach", de);
        Assert.DoesNotContain("Die App liest dieses Postfach nicht", de);
        // The reader sees only what reaches the bounce mailbox: staff must make sure the unsubscribe address goes there.
        Assert.Contains("Abmeldungen per E-Mail an abmelden@tagblatt.example.test müssen in dieses Postfach zugestellt werden", de);
        var en = await PageAsync(admin, "en");
        Assert.Contains("1 email(s) in the bounce mailbox wait for a person", en);
        Assert.Contains("Unsubscribes by email to abmelden@tagblatt.example.test must be delivered to this mailbox", en);

        using (var client = await dovecot.ConnectAsync())
        {
            var waiting = await client.GetFolderAsync(FolderFor(ReportKind.Unknown));
            await waiting.OpenAsync(FolderAccess.ReadWrite);
            var done = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Erledigt", true);
            await waiting.MoveToAsync(0, done!);
        }
        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 0, "the count goes down");
        Assert.DoesNotContain("warten auf einen Menschen", await PageAsync(editor, "de"));
    }

    [DovecotFact]
    public async Task A_mail_the_processor_keeps_failing_on_goes_to_the_folder_for_a_person_after_three_attempts_and_is_counted_C44()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.Question(2));
        var broken = (await dovecot.FetchRawAsync())[1];
        var clock = new SettableClock();
        await using var setup = new AppFactory();
        await MailboxReaderFailureTests.RefuseAsync(setup, broken);
        await setup.StopHostAsync();
        // Rechecked every second, so the tries ten minutes apart come as fast as the test moves the clock.
        await using var app = new AppFactory(settings: dovecot.Settings(("Bounces:Imap:LeaseDuration", "00:00:03")), reuse: setup)
            { TestServices = s => s.AddSingleton<TimeProvider>(clock) }.Started();
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        await WaitForAsync(async () => await dovecot.InboxCountAsync() == 1, "the other mail is filed");
        await WaitForAsync(async () => await app.WithDbAsync(db => db.MailboxFailures.CountAsync()) == 1, "the failure is recorded");

        var de = await PageAsync(admin, "de");
        Assert.Contains("1 E-Mail(s) aus dem Bounce-Postfach konnten in den letzten 7 Tagen nicht verarbeitet werden (Fehler: DbUpdateException); 0 davon", de);

        await WaitForAsync(async () =>
        {
            clock.Advance(TimeSpan.FromMinutes(11));
            await Task.Delay(500);
            return await dovecot.InboxCountAsync() == 0;
        }, "the mail is given up on and filed for a person");
        var failure = await app.WithDbAsync(db => db.MailboxFailures.SingleAsync());
        Assert.Equal(3, failure.Attempts);
        var record = await app.WithDbAsync(db => db.MailboxMails.SingleAsync(m => m.ContentSha256 == failure.ContentSha256));
        Assert.Equal(ReportKind.Unknown, record.Kind);
        Assert.Equal(broken, (await dovecot.FetchRawAsync(FolderFor(ReportKind.Unknown))).Single(m => Sha256(m).SequenceEqual(failure.ContentSha256)));
        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 2, "both wait for a person");
        de = await PageAsync(admin, "de");
        Assert.Contains("1 E-Mail(s) aus dem Bounce-Postfach konnten in den letzten 7 Tagen nicht verarbeitet werden (Fehler: DbUpdateException); 1 davon liegen nach 3 Versuchen", de);
        Assert.Contains("2 E-Mail(s) im Bounce-Postfach warten auf einen Menschen", de);
        Assert.Contains("1 email(s) from the bounce mailbox could not be processed", await PageAsync(admin, "en"));
    }

    [Fact]
    public async Task An_unreachable_bounce_mailbox_shows_that_reports_wait_there_and_only_admins_see_the_error()
    {
        await using var app = new AppFactory(settings: new()
        {
            ["Bounces:Imap:Host"] = "127.0.0.1", ["Bounces:Imap:Port"] = TestSmtpServer.FreePort().ToString(),
            ["Bounces:Imap:Security"] = "None", ["Bounces:Imap:UserName"] = "bounces", ["Bounces:Imap:Password"] = "geheim",
        }).Started();
        await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var editor = await app.EditorAsync();
        // Failing from the first error: the mailbox was never reached.
        await WaitForAsync(async () => (await app.StateAsync()).LastError is not null, "the error is recorded");

        var forAdmin = await PageAsync(admin, "de");
        Assert.Contains("Das Bounce-Postfach kann nicht gelesen werden (zuletzt erreicht: noch nie)", forAdmin);
        var error = (await app.StateAsync()).LastError!;
        Assert.Contains(error, forAdmin);
        Assert.DoesNotContain("geheim", forAdmin);
        var forEditor = await PageAsync(editor, "en");
        Assert.Contains("The bounce mailbox cannot be read (last reached: never)", forEditor);
        Assert.DoesNotContain(error, forEditor);
    }

    [Fact]
    public async Task A_refusal_of_our_sender_reported_for_a_sign_up_mail_shows_for_a_week_without_naming_the_reader_C37()
    {
        await using var app = new AppFactory();
        // An editor made while only the other newsletter exists works on that one alone.
        await app.NewsletterAsync(slug: "sport");
        var editorOfOther = await app.EditorAsync();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        await app.SignUpAsync("/n/eilmeldungen", "leser@example.test");
        var doi = await app.Smtp.WaitForAsync("leser@example.test", "bestätigen");
        Assert.DoesNotContain("unseren Absender", await PageAsync(admin, "de"));

        var refusal = new ClassifiedReport(ReportKind.SenderProblem, "leser@example.test", "5.7.26",
            "550 5.7.26 unauthenticated email from example.test is not accepted", OriginalMessageId: doi.MessageId);
        // A report written eight days ago (read late, after the mailbox was down) is past the dashboard's week.
        await ApplyAsync(app, refusal, DateTime.UtcNow - NewsletterMigrator.Dashboard.AttentionItems.SenderProblemWindow - TimeSpan.FromDays(1));
        Assert.DoesNotContain("unseren Absender", await PageAsync(admin, "de"));

        // Each mail counts once, so today's report is about another sign-up mail.
        await app.SignUpAsync("/n/eilmeldungen", "leserin@example.test");
        var laterDoi = await app.Smtp.WaitForAsync("leserin@example.test", "bestätigen");
        await ApplyAsync(app, refusal with { Recipient = "leserin@example.test", OriginalMessageId = laterDoi.MessageId, Diagnostic = "550 5.7.26 the same, a day later" }, DateTime.UtcNow);

        var de = await PageAsync(admin, "de");
        Assert.Contains("Mailbox-Anbieter haben unseren Absender in den letzten 7 Tagen 1-mal abgelehnt", de);
        Assert.Contains("Status 5.7.26", de);
        Assert.DoesNotContain("leser@example.test", de);
        Assert.DoesNotContain("leserin@example.test", de);
        Assert.Contains("Mailbox providers refused our sender 1 times", await PageAsync(admin, "en"));
        // The editor of another newsletter has nothing to do with it.
        Assert.DoesNotContain("unseren Absender", await PageAsync(editorOfOther, "de"));
        // The reader was not suppressed for it.
        Assert.All(await app.WithDbAsync(db => db.Subscribers.Where(s => s.NewsletterId == newsletter.Id).Select(s => s.Status).ToListAsync()),
            status => Assert.Equal(SubscriberStatus.Pending, status));
    }

    private static async Task ApplyAsync(AppFactory app, ClassifiedReport report, DateTime reportedAtUtc)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ReportEffects>().ApplyAsync(report, reportedAtUtc);
    }
}
