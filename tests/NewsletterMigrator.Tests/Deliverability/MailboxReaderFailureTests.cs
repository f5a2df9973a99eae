using MailKit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16.2, C44: failures of one mail or one connection never stop the rest, never lose a mail, and end where staff see
/// them; the COPY fallback never files a mail twice nor deletes one the app did not file.
/// </summary>
public sealed class MailboxReaderFailureTests
{
    [DovecotFact]
    public async Task A_mail_the_server_will_not_hand_out_stays_in_the_inbox_while_the_others_are_filed()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.Question(2), BounceMails.AutoReply(3));
        dovecot.MakeUnreadable((await dovecot.FetchRawAsync())[1]);
        await using var app = new AppFactory(settings: dovecot.Settings()).Started();

        await WaitForAsync(async () => await dovecot.InboxCountAsync() == 1, "the two readable mails are filed");
        Assert.Equal(2, await app.RecordCountAsync());
        // Dovecot hangs up on the failed FETCH; the reader reconnects, passes the mail by and the round succeeds.
        await WaitForAsync(async () => (await StatusAsync(app)) is { LastSuccessAtUtc: not null, Failing: false }, "the mailbox is read");
    }

    [DovecotFact]
    public async Task After_dropped_connections_the_reader_reconnects_within_seconds_each_time()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await using var app = new AppFactory(settings: dovecot.Settings()).Started();
        await WaitForAsync(async () => (await app.StateAsync()).LastSuccessAtUtc is not null, "the reader has checked the mailbox");

        // Without a reset after each good round, the waits before reconnecting double: 2, 4, 8, 16, 32 seconds.
        for (var drop = 1; drop <= 5; drop++)
        {
            var before = await app.StateAsync();
            await WaitForAsync(() => Task.FromResult(dovecot.DropConnections() > 0), "the reader's session is dropped");
            await WaitForAsync(async () => (await app.StateAsync()) is { LastErrorAtUtc: { } error, LastSuccessAtUtc: { } success }
                && error > (before.LastErrorAtUtc ?? DateTime.MinValue) && success > error,
                $"the reader is back after drop {drop}", TimeSpan.FromSeconds(20));
        }
        Assert.Equal(6, dovecot.ReaderLogins);
    }

    [DovecotFact]
    public async Task Without_MOVE_a_copy_flagged_before_a_crash_is_expunged_and_not_filed_twice()
    {
        await using var dovecot = await TestDovecot.StartAsync(without: "MOVE");
        await dovecot.AppendAsync(BounceMails.Question(1));
        var raw = Assert.Single(await dovecot.FetchRawAsync());
        await using var crashed = new AppFactory();
        await using (var scope = crashed.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<MailboxReportProcessor>().ProcessAsync(raw);
        // The crash came after COPY and \Deleted, before EXPUNGE.
        using (var client = await dovecot.ConnectAsync())
        {
            var processed = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Processed", false);
            var target = await processed!.CreateAsync(MailboxFolders.NeedsAttention, true);
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
            await client.Inbox.CopyToAsync(0, target!);
            await client.Inbox.AddFlagsAsync(0, MessageFlags.Deleted, true);
        }
        await crashed.StopHostAsync();

        await using var restarted = new AppFactory(settings: dovecot.Settings(), reuse: crashed).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        await WaitForAsync(async () => (await restarted.StateAsync()).LastSuccessAtUtc is not null, "the round ends");
        Assert.Equal(1, (await dovecot.FolderCountsAsync())["Processed.NeedsAttention"]);
        Assert.Equal(1, await restarted.RecordCountAsync());
    }

    [DovecotFact]
    public async Task Without_MOVE_and_UIDPLUS_a_mail_a_person_flagged_deleted_that_the_app_did_not_file_is_never_expunged()
    {
        await using var dovecot = await TestDovecot.StartAsync("MOVE", "UIDPLUS");
        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.Question(2), BounceMails.AutoReply(3));
        var broken = (await dovecot.FetchRawAsync())[1];
        // A person deleted it in a mail client that leaves the expunge for later.
        using (var client = await dovecot.ConnectAsync())
        {
            await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
            await client.Inbox.AddFlagsAsync(1, MessageFlags.Deleted, true);
        }
        await using var setup = new AppFactory();
        await RefuseAsync(setup, broken);
        await setup.StopHostAsync();

        await using var app = new AppFactory(settings: dovecot.Settings(), reuse: setup).Started();

        await WaitForAsync(async () => await app.RecordCountAsync() == 2, "the two other mails are recorded");
        await WaitForAsync(async () => (await dovecot.FolderCountsAsync()).Where(c => c.Key.StartsWith("Processed.")).Sum(c => c.Value) == 2, "they are filed");
        await WaitForAsync(async () => (await app.StateAsync()).LastSuccessAtUtc is not null, "the round ends");
        Assert.Contains(Convert.ToHexString(Sha256(broken)), (await dovecot.FetchRawAsync()).Select(m => Convert.ToHexString(Sha256(m))));
    }

    [Theory]
    [InlineData("imap.example.test", "None", "Production", "must be SslOnConnect or StartTls in Production")]
    [InlineData("imap.example.test", "StartTlsWhenAvailable", "Production", "must be SslOnConnect or StartTls in Production")]
    [InlineData("imap.example.test", "Auto", "Development", "Bounces:Imap:Security must be")]
    [InlineData("imap.example.test", "None", "Development", null)]
    [InlineData("127.0.0.1", "None", "Production", null)]
    [InlineData("localhost", "None", "Production", null)]
    [InlineData("imap.example.test", "StartTls", "Production", null)]
    [InlineData("imap.example.test", "SslOnConnect", "Production", null)]
    public void In_Production_the_mailbox_login_crosses_the_network_only_encrypted(string host, string security, string environment, string? error)
    {
        var options = new BouncesOptions();
        options.Imap.Host = host;
        options.Imap.UserName = "bounces";
        options.Imap.Password = "geheim";
        options.Imap.Security = Enum.Parse<MailKit.Security.SecureSocketOptions>(security);
        var result = new BounceMailboxOptionsValidator(new Environment(environment)).Validate(null, options);
        if (error is null) Assert.True(result.Succeeded, result.FailureMessage);
        else
        {
            Assert.True(result.Failed);
            Assert.Contains(error, result.FailureMessage);
            Assert.Contains("Bounces:Imap:Security", result.FailureMessage);
        }
    }

    [Theory]
    [InlineData(1, 30, false)] // one dropped connection, reconnecting
    [InlineData(2, 5, true)] // failed again
    [InlineData(1, 61, true)] // the one attempt has stood for over a minute
    public void One_recent_error_after_a_success_is_not_yet_a_mailbox_that_cannot_be_read(int consecutive, int secondsAgo, bool failing)
    {
        var now = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
        var view = new MailboxStatusView(true, now.AddMinutes(-5), "broke off", now.AddSeconds(-secondsAgo), 0, null, now, consecutive);
        Assert.Equal(failing, view.Failing);
        Assert.True((view with { LastSuccessAtUtc = null }).Failing, "a mailbox never reached shows at once");
        Assert.False((view with { LastSuccessAtUtc = now.AddSeconds(-1) }).Failing, "a later success ends it");
    }

    internal static async Task RefuseAsync(AppFactory app, byte[] raw)
    {
        // A real failure inside the processor's transaction, for this one mail only: the database refuses its record.
        // A trigger takes no parameters; the literal is a hex string made here.
        var hash = Convert.ToHexString(Sha256(raw));
        var trigger = app.Provider == DatabaseProvider.Postgres
            ? $$"""
              CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN
                  IF NEW."ContentSha256" = '\x{{hash}}'::bytea AND NEW."Outcome" NOT LIKE 'could not be processed%' THEN
                      RAISE EXCEPTION 'refused by the test';
                  END IF;
                  RETURN NEW;
              END $body$;
              CREATE TRIGGER refuse_one BEFORE INSERT ON "MailboxMails" FOR EACH ROW EXECUTE FUNCTION refuse_one();
              """
            : "CREATE TRIGGER refuse_one BEFORE INSERT ON MailboxMails WHEN NEW.ContentSha256 = X'" + hash
              + "' AND NEW.Outcome NOT LIKE 'could not be processed%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
#pragma warning disable EF1003
        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(trigger));
#pragma warning restore EF1003
    }

    /// <summary>Ends <see cref="RefuseAsync"/>.</summary>
    internal static Task AcceptAgainAsync(AppFactory app) => app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
        app.Provider == DatabaseProvider.Postgres ? "DROP TRIGGER refuse_one ON \"MailboxMails\"; DROP FUNCTION refuse_one();" : "DROP TRIGGER refuse_one"));

    private static async Task<MailboxStatusView> StatusAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MailboxStatus>().GetAsync();
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "NewsletterMigrator";
        public string ContentRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
