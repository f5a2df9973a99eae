using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16.2: an unreachable mailbox shows with its last error and nothing is lost meanwhile; two instances never read
/// the mailbox at once; a mail the processor fails on stays in the inbox while the rest are filed.
/// </summary>
public sealed class MailboxReaderRecoveryTests
{
    [DovecotFact]
    public async Task A_refused_login_is_recorded_without_the_password_and_the_mails_wait_until_the_setting_is_fixed()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.HardBounce(1), BounceMails.Question(2));
        const string wrong = "Wrong-Password-4711";
        await using var misconfigured = new AppFactory(settings: dovecot.Settings(("Bounces:Imap:Password", wrong))).Started();

        await WaitForAsync(async () => (await misconfigured.StateAsync()).LastError is not null, "the error is recorded");
        var state = await misconfigured.StateAsync();
        Assert.Contains("refused the login", state.LastError);
        Assert.Contains("Bounces:Imap:Password", state.LastError);
        Assert.DoesNotContain(wrong, state.LastError);
        Assert.DoesNotContain(dovecot.Password, state.LastError);
        Assert.NotNull(state.LastErrorAtUtc);
        Assert.True((await StatusAsync(misconfigured)).Failing);
        Assert.Equal(2, await dovecot.InboxCountAsync());
        Assert.Equal(0, await misconfigured.RecordCountAsync());
        await misconfigured.StopHostAsync();

        await using var fixedUp = new AppFactory(settings: dovecot.Settings(), reuse: misconfigured).Started();

        await dovecot.WaitUntilInboxEmptyAsync();
        Assert.Equal(2, await fixedUp.RecordCountAsync());
        await WaitForAsync(async () => !(await StatusAsync(fixedUp)).Failing, "the dashboard no longer shows the mailbox failing");
    }

    [DovecotFact]
    public async Task A_closed_port_is_recorded_as_the_error_and_nothing_is_taken_from_the_mailbox()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.Question(1));
        await using var app = new AppFactory(settings: dovecot.Settings(("Bounces:Imap:Port", ClosedPort().ToString()))).Started();

        await WaitForAsync(async () => (await app.StateAsync()).LastError is not null, "the error is recorded");
        var status = await StatusAsync(app);
        Assert.StartsWith("Could not connect to 127.0.0.1:", status.LastError);
        Assert.True(status.Failing);
        Assert.Null(status.LastSuccessAtUtc);
        Assert.Equal(1, await dovecot.InboxCountAsync());
    }

    [DovecotFact]
    public async Task Of_two_instances_on_one_database_only_the_lease_holder_reads_and_the_other_takes_over_when_it_stops()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        // A lease of 15 s renewed every 5 s: only a stall of over 10 s on a loaded machine would hand it over legitimately.
        var settings = dovecot.Settings(("Bounces:Imap:LeaseDuration", "00:00:15"));
        await using var first = new AppFactory(settings: settings).Started();
        await using var second = new AppFactory(settings: settings, reuse: first).Started();
        var firstId = first.Service<InstanceIdentity>().Id;
        var secondId = second.Service<InstanceIdentity>().Id;
        Assert.NotEqual(firstId, secondId);

        await dovecot.AppendAsync(BounceMails.OneOfEach(1, "tok1").Concat(BounceMails.OneOfEach(2, "tok2")).ToArray());
        await dovecot.WaitUntilInboxEmptyAsync();
        // The app logs in as its own Dovecot user; Dovecot writes its log a moment later, so wait for the count.
        await WaitForAsync(() => Task.FromResult(dovecot.ReaderLogins >= 1), "the reader's login is logged");
        // Past a renewal period: the other instance has tried for the lease at least once more meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal(12, await first.RecordCountAsync());
        Assert.Equal(1, dovecot.ReaderLogins);
        var owner = (await first.StateAsync()).LeaseOwner;
        Assert.NotNull(owner);
        var (holder, other) = owner.StartsWith(firstId + "/") ? (first, second) : (second, first);

        await holder.StopHostAsync();
        await dovecot.AppendAsync(BounceMails.Question(3));

        await dovecot.WaitUntilInboxEmptyAsync();
        Assert.Equal(13, await other.RecordCountAsync());
        Assert.StartsWith((holder == first ? secondId : firstId) + "/", (await other.StateAsync()).LeaseOwner);
        await WaitForAsync(() => Task.FromResult(dovecot.ReaderLogins >= 2), "the second reader's login is logged");
        Assert.Equal(2, dovecot.ReaderLogins);
    }

    [DovecotFact]
    public async Task A_mail_the_processor_fails_on_stays_in_the_inbox_while_the_others_are_filed()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        await dovecot.AppendAsync(BounceMails.Question(1), BounceMails.Question(2), BounceMails.Question(3));
        var broken = (await dovecot.FetchRawAsync())[1];
        await using var setup = new AppFactory();
        // A real failure inside the processor's transaction, for this one mail only: the database refuses its record.
        await MailboxReaderFailureTests.RefuseAsync(setup, broken);
        await setup.StopHostAsync();

        await using (var app = new AppFactory(settings: dovecot.Settings(), reuse: setup).Started())
        {
            await WaitForAsync(async () => await app.RecordCountAsync() == 2, "the two other mails are recorded");
            await WaitForAsync(async () => await dovecot.InboxCountAsync() == 1, "the two other mails are filed");
            Assert.Equal(Sha256(broken), Sha256(Assert.Single(await dovecot.FetchRawAsync())));
            await WaitForAsync(async () => (await app.StateAsync()).LastSuccessAtUtc is not null, "the round ends as a success");
            await MailboxReaderFailureTests.AcceptAgainAsync(app);
            await app.StopHostAsync();
        }

        await using var restarted = new AppFactory(settings: dovecot.Settings(), reuse: setup).Started();
        await dovecot.WaitUntilInboxEmptyAsync();
        Assert.Equal(3, await restarted.RecordCountAsync());
    }

    [Fact]
    public async Task A_mailbox_without_login_stops_start_up_naming_the_keys()
    {
        var data = Directory.CreateTempSubdirectory("nm-mailbox-config-").FullName;
        try
        {
            var (exitCode, _, error) = await AppProcess.RunAsync(["migrate"], new Dictionary<string, string?>
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["App__DataDirectory"] = data,
                ["Database__ConnectionString"] = $"Data Source={Path.Combine(data, "config.db")}",
                ["Bounces__Imap__Host"] = "imap.example.test",
                ["Bounces__Imap__PollInterval"] = "00:00:00",
            }, data);
            Assert.Equal(1, exitCode);
            Assert.Contains("Configuration error", error);
            Assert.Contains("Bounces:Imap:UserName", error);
            Assert.Contains("Bounces:Imap:PollInterval", error);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    private static async Task<MailboxStatusView> StatusAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MailboxStatus>().GetAsync();
    }

    /// <summary>A loopback port nobody listens on.</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
