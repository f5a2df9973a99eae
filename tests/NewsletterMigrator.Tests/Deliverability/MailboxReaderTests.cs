using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MailKit;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16.2: the bounce mailbox reader against a real Dovecot. Mails go in with IMAP APPEND, as a mail server delivers
/// them; the reader processes each and files it in the folder named for what it was, and the inbox ends empty.
/// </summary>
public sealed class MailboxReaderTests
{
    private const string Token = "q6qyBk0vJ0cF8bWmVJ0Ujb3Vn7zAq2l1dS9xR4tY5wE";

    [DovecotFact]
    public async Task A_mail_arriving_while_the_reader_idles_is_filed_at_once_without_waiting_for_a_poll()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        // Neither a poll nor a lease renewal could end the wait within the test: only IMAP IDLE's news of the arrival.
        await using var app = new AppFactory(settings: dovecot.Settings(
            ("Bounces:Imap:PollInterval", "1.00:00:00"), ("Bounces:Imap:LeaseDuration", "03:00:00"))).Started();
        await WaitForAsync(async () => (await app.StateAsync()).LastSuccessAtUtc is not null, "the reader has checked the empty mailbox");

        await dovecot.AppendAsync(BounceMails.Question(1));

        await dovecot.WaitUntilInboxEmptyAsync();
        var record = Assert.Single(await app.RecordsAsync());
        Assert.Equal(1, (await dovecot.FolderCountsAsync())[FolderFor(record.Kind)]);
    }

    [DovecotFact]
    public async Task Where_the_server_offers_no_IDLE_the_reader_polls_every_poll_interval()
    {
        await using var dovecot = await TestDovecot.StartAsync(without: "IDLE");
        using (var client = await dovecot.ConnectAsync())
            Assert.False(client.Capabilities.HasFlag(MailKit.Net.Imap.ImapCapabilities.Idle), "the test server still offers IDLE");
        await using var app = new AppFactory(settings: dovecot.Settings(
            ("Bounces:Imap:PollInterval", "00:00:01"), ("Bounces:Imap:LeaseDuration", "03:00:00"))).Started();
        await WaitForAsync(async () => (await app.StateAsync()).LastSuccessAtUtc is not null, "the reader has checked the empty mailbox");

        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.AutoReply(2));

        await dovecot.WaitUntilInboxEmptyAsync();
        Assert.Equal(2, await app.RecordCountAsync());
    }

    [DovecotFact]
    public async Task Every_report_is_processed_once_and_filed_in_the_folder_of_what_it_was()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.OneOfEach(1, Token));
        await using var app = new AppFactory(settings: dovecot.Settings()).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        var records = await app.RecordsAsync();
        Assert.Equal(6, records.Count);
        // Each mail sits in the folder of the kind recorded for its bytes, and nowhere else.
        var counts = await dovecot.FolderCountsAsync();
        foreach (var group in records.GroupBy(r => r.Kind))
        {
            var inFolder = await dovecot.FetchRawAsync(FolderFor(group.Key));
            Assert.Equal(group.Select(r => Convert.ToHexString(r.ContentSha256)).Order(), inFolder.Select(m => Convert.ToHexString(Sha256(m))).Order());
        }
        Assert.Equal(6, counts.Where(c => c.Key.StartsWith("Processed.")).Sum(c => c.Value));
        Assert.Equal(0, counts["INBOX"]);
    }

    [DovecotFact]
    public async Task Each_kind_has_a_folder_of_its_own_and_mails_recorded_before_a_crash_are_filed_without_being_processed_again()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        var kinds = Enum.GetValues<ReportKind>();
        await dovecot.AppendAsync(Enumerable.Range(1, kinds.Length).Select(BounceMails.Question).ToArray());
        var raws = await dovecot.FetchRawAsync();
        // The state a crash between the processor's commit and the move leaves: recorded, still in the inbox.
        var processedAt = new DateTime(2026, 3, 1, 8, 0, 0, DateTimeKind.Utc);
        await using (var crashed = new AppFactory())
        {
            await crashed.WithDbAsync(async db =>
            {
                for (var i = 0; i < kinds.Length; i++)
                    db.MailboxMails.Add(new MailboxMail { ContentSha256 = Sha256(raws[i]), Kind = kinds[i], ProcessedAtUtc = processedAt, Outcome = "before the crash" });
                return await db.SaveChangesAsync();
            });
            await using var restarted = new AppFactory(settings: dovecot.Settings(), reuse: crashed).Started();

            await dovecot.WaitUntilInboxEmptyAsync();
            var counts = await dovecot.FolderCountsAsync();
            foreach (var kind in kinds) Assert.True(counts.GetValueOrDefault(FolderFor(kind)) == 1, $"{FolderFor(kind)} holds {counts.GetValueOrDefault(FolderFor(kind))} mail(s)");
            Assert.Contains("Processed.NeedsAttention", counts.Keys);
            var records = await restarted.RecordsAsync();
            Assert.Equal(kinds.Length, records.Count);
            Assert.All(records, r => Assert.Equal(processedAt, r.ProcessedAtUtc));
        }
    }

    [DovecotFact]
    public async Task A_mail_the_processor_already_handled_is_filed_again_but_not_processed_twice()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.HardBounce(7));
        var raw = Assert.Single(await dovecot.FetchRawAsync());
        await using var crashed = new AppFactory();
        ReportKind kind;
        await using (var scope = crashed.Services.CreateAsyncScope())
            kind = await scope.ServiceProvider.GetRequiredService<MailboxReportProcessor>().ProcessAsync(raw);
        var before = Assert.Single(await crashed.RecordsAsync());
        await crashed.StopHostAsync();

        await using var restarted = new AppFactory(settings: dovecot.Settings(), reuse: crashed).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        var after = Assert.Single(await restarted.RecordsAsync());
        Assert.Equal((before.Id, before.ProcessedAtUtc), (after.Id, after.ProcessedAtUtc));
        Assert.Equal(1, (await dovecot.FolderCountsAsync())[FolderFor(kind)]);
    }

    [DovecotFact]
    public async Task Without_MOVE_the_reader_copies_and_expunges_each_mail_it_filed_and_no_other()
    {
        await using var dovecot = await TestDovecot.StartAsync(without: "MOVE");
        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.AutoReply(2), BounceMails.HardBounce(3));
        using (var client = await dovecot.ConnectAsync())
            Assert.False(client.Capabilities.HasFlag(MailKit.Net.Imap.ImapCapabilities.Move), "the test server still offers MOVE");
        await using var app = new AppFactory(settings: dovecot.Settings()).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        Assert.Equal(3, await app.RecordCountAsync());
        var filed = new List<byte[]>();
        foreach (var folder in (await dovecot.FolderCountsAsync()).Keys.Where(k => k.StartsWith("Processed."))) filed.AddRange(await dovecot.FetchRawAsync(folder));
        // Each exactly once: copied, not copied again after the expunge.
        Assert.Equal(3, filed.Select(m => Convert.ToHexString(Sha256(m))).Distinct().Count());
        Assert.Equal(3, filed.Count);
    }
}
