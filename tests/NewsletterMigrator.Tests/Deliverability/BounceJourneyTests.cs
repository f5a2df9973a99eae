using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16 end to end: a campaign goes out with VERP return paths through the test SMTP server, the mailboxes answer
/// as providers do (a DSN to the return path, a feedback-loop complaint naming the original Message-ID, a reply to
/// the mailto: unsubscribe address, an out-of-office), the app reads them from a real Dovecot, and the editor sees
/// the counts on the campaign's report while each reader's status changed as the report says (C12, C37, C44).
/// </summary>
public sealed class BounceJourneyTests
{
    private const string Subject = "Eilmeldung: Brücke gesperrt";

    [DovecotFact]
    public async Task Reports_read_from_the_bounce_mailbox_change_the_readers_they_name_and_show_as_counts_on_the_campaign_report()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = new AppFactory(settings: dovecot.Settings(
            ("Bounces:ReturnPathDomain", BounceMails.Domain),
            ("Sending:UnsubscribeMailbox", $"abmelden@{BounceMails.Domain}"))).Started();
        var newsletter = await app.NewsletterAsync();
        string[] readers = ["weg@example.test", "genervt@example.test", "geht@example.test", "urlaub@example.test", "bleibt@example.test"];
        await app.ConfirmedReadersAsync(newsletter, readers);
        var campaign = await app.CampaignAsync(newsletter, Subject);
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        var mails = readers.ToDictionary(r => r, r => app.Smtp.Messages.Single(m => m.To.Mailboxes.Single().Address == r && m.Subject == Subject));
        var returnPaths = readers.ToDictionary(r => r, r => app.Smtp.EnvelopeSender(mails[r]));
        Assert.All(returnPaths.Values, path => Assert.Matches($"^bounce\\+[a-z0-9]+@{Regex.Escape(BounceMails.Domain)}$", path));

        var token = Regex.Match(mails["geht@example.test"].Headers[HeaderId.ListUnsubscribe]!, "subject=unsubscribe-([A-Za-z0-9_-]+)").Groups[1].Value;
        await dovecot.AppendAsync(
            HardBounce(returnPaths["weg@example.test"], "weg@example.test", mails["weg@example.test"].MessageId!),
            Complaint("genervt@example.test", mails["genervt@example.test"].MessageId!),
            $"From: Geht <geht.privat@example.org>\nTo: abmelden@{BounceMails.Domain}\nSubject: AW: unsubscribe-{token}\nMessage-ID: <abmelden-1@example.org>\nDate: {DateTime.UtcNow:R}\n\nBitte abmelden.\n",
            $"From: urlaub@example.test\nTo: {returnPaths["urlaub@example.test"]}\nSubject: Abwesenheitsnotiz: {Subject}\nAuto-Submitted: auto-replied\nMessage-ID: <ooo-1@example.test>\nDate: {DateTime.UtcNow:R}\n\nBis Montag nicht im Büro.\n");
        await dovecot.WaitUntilInboxEmptyAsync();

        Assert.Equal(SubscriberStatus.Bounced, await StatusAsync(app, "weg@example.test"));
        Assert.Equal(SubscriberStatus.Unsubscribed, await StatusAsync(app, "genervt@example.test"));
        Assert.Equal(SubscriberStatus.Unsubscribed, await StatusAsync(app, "geht@example.test"));
        Assert.Equal(SubscriberStatus.Confirmed, await StatusAsync(app, "urlaub@example.test"));
        Assert.Equal(SubscriberStatus.Confirmed, await StatusAsync(app, "bleibt@example.test"));
        var channels = await app.WithDbAsync(db => db.ConsentEvents.Where(e => e.Kind == ConsentEventKind.Withdrawn).Select(e => e.Channel).OrderBy(c => c).ToListAsync());
        Assert.Equal([WithdrawalChannel.Complaint, WithdrawalChannel.Mailto], channels);
        var folders = await dovecot.FolderCountsAsync();
        Assert.Equal(1, folders[FolderFor(ReportKind.HardBounce)]);
        Assert.Equal(1, folders[FolderFor(ReportKind.Complaint)]);
        Assert.Equal(1, folders[FolderFor(ReportKind.Unsubscribe)]);
        Assert.Equal(1, folders[FolderFor(ReportKind.AutoReply)]);

        // The editor's report: counts, no reader named.
        var editor = await app.EditorAsync();
        var report = WebUtility.HtmlDecode(await editor.GetStringAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign}"));
        var total = Regex.Matches(report, "<tr class=\"delivery-row\">(.*?)</tr>", RegexOptions.Singleline)[^1].Groups[1].Value;
        int Field(string name) => int.Parse(Regex.Match(total, $"data-field=\"{name}\">(\\d+)<").Groups[1].Value);
        Assert.Equal((5, 1, 0, 1, 2), (Field("accepted"), Field("hardBounces"), Field("softBounces"), Field("complaints"), Field("unsubscribes")));
        Assert.All(readers, r => Assert.DoesNotContain(r, report));
    }

    [DovecotFact]
    public async Task A_mail_that_is_not_MIME_at_all_is_left_for_a_person_once_and_does_not_hold_up_the_others()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.DeliverRawAsync(Encoding.ASCII.GetBytes("garbage a broken relay stored\r\nwithout a single header line\r\n"));
        await dovecot.AppendAsync(BounceMails.AutoReply(1));
        await using var app = new AppFactory(settings: dovecot.Settings()).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        var folders = await dovecot.FolderCountsAsync();
        Assert.Equal(1, folders[FolderFor(ReportKind.Unknown)]);
        Assert.Equal(1, folders[FolderFor(ReportKind.AutoReply)]);
        var records = await app.RecordsAsync();
        Assert.Contains(records, r => r.Kind == ReportKind.Unknown && r.Outcome.StartsWith("not a readable mail"));
        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 1, "the dashboard counts it for a person");
    }

    private static Task<SubscriberStatus> StatusAsync(AppFactory app, string email) =>
        app.WithDbAsync(db => db.Subscribers.Where(s => s.EmailKey == email).Select(s => s.Status).SingleAsync());

    /// <summary>What Postfix returns to the envelope sender when the recipient's server refuses it (RFC 3464).</summary>
    private static string HardBounce(string returnPath, string recipient, string messageId) => $"""
        Return-Path: <>
        Delivered-To: {returnPath}
        Date: {DateTime.UtcNow:R}
        From: Mail Delivery System <MAILER-DAEMON@relay.provider.example>
        To: {returnPath}
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <dsn-journey@relay.provider.example>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

        --b1
        Content-Type: text/plain; charset=us-ascii

        I'm sorry to have to inform you that your message could not be delivered.

        --b1
        Content-Type: message/delivery-status

        Reporting-MTA: dns; relay.provider.example

        Final-Recipient: rfc822; {recipient}
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown

        --b1
        Content-Type: text/rfc822-headers

        Return-Path: <{returnPath}>
        To: {recipient}
        Subject: {Subject}
        Message-ID: <{messageId}>

        --b1--
        """;

    /// <summary>A feedback loop's ARF report (RFC 5965): sent to the loop's address, it names the original by its Message-ID.</summary>
    private static string Complaint(string recipient, string messageId) => $"""
        From: Feedback Loop <fbl@feedback.provider.example>
        To: fbl@{BounceMails.Domain}
        Date: {DateTime.UtcNow:R}
        Subject: FW: {Subject}
        Message-ID: <arf-journey@feedback.provider.example>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="b2"

        --b2
        Content-Type: text/plain

        This is an email abuse report.

        --b2
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: ProviderFBL/1.0
        Version: 1
        Original-Rcpt-To: <{recipient}>

        --b2
        Content-Type: message/rfc822

        From: Tagblatt <newsletter@tagblatt.example.test>
        To: {recipient}
        Subject: {Subject}
        Message-ID: <{messageId}>

        Die Brücke ist gesperrt.

        --b2--
        """;
}
