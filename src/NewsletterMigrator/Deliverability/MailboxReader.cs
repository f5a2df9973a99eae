using System.Diagnostics;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Reads the bounce mailbox over IMAP (issue 16.2): every mail in <see cref="BounceMailboxOptions.Folder"/>, oldest first,
/// goes through <see cref="MailboxReportProcessor"/> and is then filed in the folder named for what it was. Then it waits for
/// new mail with IMAP IDLE where the server offers it, else it polls. Only the instance holding the lease on the
/// <see cref="MailboxState"/> row reads; the others wait. Nothing is ever deleted: a mail leaves the folder only by being
/// moved, and a mail the processor fails on stays where it is and is tried again later.
/// A crash between processing and moving leaves a processed mail in the folder; the processor knows it by its hash and
/// answers what it was, so it is filed again but never processed twice.
/// </summary>
public sealed class MailboxReader(
    IServiceScopeFactory scopes,
    IOptions<BouncesOptions> options,
    InstanceIdentity instance,
    TimeProvider clock,
    ILogger<MailboxReader> logger) : BackgroundService
{
    /// <summary>RFC 2177: a client re-issues IDLE at least every 29 minutes, or the server may drop it as inactive.</summary>
    internal static readonly TimeSpan LongestIdle = TimeSpan.FromMinutes(29);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan LongestBackoff = TimeSpan.FromMinutes(5);
    /// <summary>A mail the processor failed on is not tried on every check, which would repeat the same error all day.</summary>
    private static readonly TimeSpan RetryFailedMailAfter = TimeSpan.FromMinutes(10);
    /// <summary>Processed mails are moved in groups per folder: one command for many mails instead of one each.</summary>
    private const int MoveBatch = 100;

    private readonly string _owner = instance.NewLeaseOwner();
    private readonly Dictionary<uint, DateTime> _failedMails = [];
    private uint _failedMailsValidity;
    private readonly Stopwatch _sinceRenewal = new();

    private BounceMailboxOptions Mailbox => options.Value.Imap;

    /// <summary>The lease is renewed every third of its duration, so two missed renewals still leave it ours.</summary>
    private TimeSpan RenewEvery => Mailbox.LeaseDuration / 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Mailbox.Enabled) return;
        var backoff = FirstBackoff;
        try
        {
            while (true)
            {
                try
                {
                    if (!await TryTakeLeaseAsync(stoppingToken))
                    {
                        // Another instance reads the mailbox; this one takes over when its lease runs out or is given up.
                        await Task.Delay(RenewEvery, stoppingToken);
                        continue;
                    }
                    await ReadWhileLeasedAsync(stoppingToken);
                    backoff = FirstBackoff;
                    logger.LogWarning("Another instance has taken over the bounce mailbox; this one waits");
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    var error = Describe(ex);
                    await RecordErrorAsync(error);
                    logger.LogWarning("The bounce mailbox could not be read: {Error} Next try in {Delay:g}.", error, backoff);
                    await Task.Delay(backoff, stoppingToken);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LongestBackoff.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down
        }
        finally
        {
            await ReleaseLeaseAsync();
        }
    }

    /// <summary>Connects and reads until the lease is lost (returns) or anything fails (throws).</summary>
    private async Task ReadWhileLeasedAsync(CancellationToken ct)
    {
        using var client = new ImapClient();
        await client.ConnectAsync(Mailbox.Host!, Mailbox.Port, Mailbox.Security, ct);
        // Set whenever the host is (BounceMailboxOptionsValidator).
        await client.AuthenticateAsync(Mailbox.UserName!, Mailbox.Password!, ct);
        var inbox = Mailbox.Folder.Equals("INBOX", StringComparison.OrdinalIgnoreCase) ? client.Inbox : await client.GetFolderAsync(Mailbox.Folder, ct);
        var outcomes = new OutcomeFolders(client, Mailbox.OutcomeFolder);
        var idle = client.Capabilities.HasFlag(ImapCapabilities.Idle);
        logger.LogInformation("Reading the bounce mailbox, then waiting for new mail {Mode}", idle ? "with IMAP IDLE" : $"by polling every {Mailbox.PollInterval:g}");
        while (true)
        {
            await inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            var round = await FileAllAsync(client, inbox, outcomes, ct);
            if (round is null) return;
            var (waiting, oldest) = await CountNeedsAttentionAsync(outcomes, ct);
            if (!await WithDbAsync(db => MailboxLease.RecordSuccessAsync(db, _owner, Now, Now + Mailbox.LeaseDuration, waiting, oldest, ct))) return;
            _sinceRenewal.Restart();
            // Reopened for IDLE after counting the other folder; a mail that came meanwhile is read without waiting.
            await inbox.OpenAsync(FolderAccess.ReadWrite, ct);
            if (inbox.Count > round.LeftInFolder) continue;
            await WaitForMailAsync(client, inbox, idle, ct);
        }
    }

    private sealed record Round(int LeftInFolder);

    /// <summary>Processes and files every mail in the folder, oldest first; null when the lease was lost on the way.</summary>
    private async Task<Round?> FileAllAsync(ImapClient client, IMailFolder inbox, OutcomeFolders outcomes, CancellationToken ct)
    {
        if (inbox.UidValidity != _failedMailsValidity)
        {
            // New UIDs for the same folder (RFC 3501): the remembered failures no longer name the same mails.
            _failedMails.Clear();
            _failedMailsValidity = inbox.UidValidity;
        }
        // UIDs grow with each arrival: ascending order is the order the mails came in.
        var uids = (await inbox.SearchAsync(SearchQuery.All, ct)).OrderBy(u => u.Id).ToList();
        var pending = new Dictionary<ReportKind, List<UniqueId>>();
        var kinds = new Dictionary<ReportKind, int>();
        int pendingCount = 0, failed = 0, left = 0;
        foreach (var uid in uids)
        {
            if (_failedMails.TryGetValue(uid.Id, out var retryAt) && retryAt > Now)
            {
                left++;
                continue;
            }
            var kind = await ProcessAsync(inbox, uid, ct);
            if (kind is null)
            {
                failed++;
                left++;
                _failedMails[uid.Id] = Now + RetryFailedMailAfter;
                continue;
            }
            _failedMails.Remove(uid.Id);
            kinds[kind.Value] = kinds.GetValueOrDefault(kind.Value) + 1;
            (pending.TryGetValue(kind.Value, out var list) ? list : pending[kind.Value] = []).Add(uid);
            if (++pendingCount >= MoveBatch)
            {
                await MoveAsync(client, inbox, outcomes, pending, ct);
                pendingCount = 0;
            }
            if (_sinceRenewal.Elapsed >= RenewEvery)
            {
                if (!await WithDbAsync(db => MailboxLease.RenewAsync(db, _owner, Now + Mailbox.LeaseDuration, ct)))
                {
                    // Filed before giving up, so the instance taking over need not file them again.
                    await MoveAsync(client, inbox, outcomes, pending, ct);
                    return null;
                }
                _sinceRenewal.Restart();
            }
        }
        await MoveAsync(client, inbox, outcomes, pending, ct);
        if (kinds.Count > 0 || failed > 0)
        {
            logger.LogInformation("Bounce mailbox: filed {Count} mail(s) ({Kinds}); {Failed} could not be processed and stay in the folder",
                kinds.Values.Sum(), string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{MailboxFolders.NameOf(k.Key)} {k.Value}")), failed);
        }
        return new Round(left);
    }

    /// <summary>The processor's answer for one mail; null when it failed (logged; the mail stays in the folder).</summary>
    private async Task<ReportKind?> ProcessAsync(IMailFolder inbox, UniqueId uid, CancellationToken ct)
    {
        // BODY.PEEK[]: the exact bytes, so the same mail always has the same hash, and no \Seen flag set by reading it.
        byte[] raw;
        await using (var stream = await inbox.GetStreamAsync(uid, ct))
        {
            raw = new byte[stream.Length];
            await stream.ReadExactlyAsync(raw, ct);
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<MailboxReportProcessor>().ProcessAsync(raw, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            // The log line names the mail by its UID only; the exception passes the log redaction like every other (C20).
            logger.LogError(ex, "Mail {Uid} in the bounce mailbox could not be processed; it stays in the folder and is tried again in {Delay:g}",
                uid.Id, RetryFailedMailAfter);
            return null;
        }
    }

    /// <summary>
    /// Moves the processed mails to their folders and empties <paramref name="pending"/>. MOVE (RFC 6851) where the server
    /// has it; else COPY, then \Deleted and an expunge of just these UIDs (UIDPLUS, RFC 4315), or a plain EXPUNGE where the
    /// server lacks that too. A crash between COPY and EXPUNGE leaves a copy in both places, never none.
    /// </summary>
    private static async Task MoveAsync(ImapClient client, IMailFolder inbox, OutcomeFolders outcomes, Dictionary<ReportKind, List<UniqueId>> pending, CancellationToken ct)
    {
        foreach (var (kind, uids) in pending)
        {
            if (uids.Count == 0) continue;
            var target = await outcomes.ForAsync(kind, ct);
            if (client.Capabilities.HasFlag(ImapCapabilities.Move))
            {
                await inbox.MoveToAsync(uids, target, ct);
            }
            else
            {
                await inbox.CopyToAsync(uids, target, ct);
                await inbox.AddFlagsAsync(uids, MessageFlags.Deleted, silent: true, ct);
                if (client.Capabilities.HasFlag(ImapCapabilities.UidPlus)) await inbox.ExpungeAsync(uids, ct);
                else await inbox.ExpungeAsync(ct);
            }
            uids.Clear();
        }
    }

    /// <summary>The mails waiting for a person, and when the oldest arrived: the dashboard's figure (C44).</summary>
    private static async Task<(int Count, DateTime? OldestUtc)> CountNeedsAttentionAsync(OutcomeFolders outcomes, CancellationToken ct)
    {
        var folder = await outcomes.NeedsAttentionAsync(ct);
        await folder.OpenAsync(FolderAccess.ReadOnly, ct);
        if (folder.Count == 0) return (0, null);
        // INTERNALDATE: when the mail reached the mailbox, kept by MOVE and COPY (RFC 3501); a mail's Date header can lie.
        var arrivals = await folder.FetchAsync(0, -1, MessageSummaryItems.InternalDate, ct);
        var oldest = arrivals.Where(m => m.InternalDate is not null).Select(m => m.InternalDate!.Value.UtcDateTime).DefaultIfEmpty().Min();
        return (folder.Count, oldest == default ? null : oldest);
    }

    /// <summary>
    /// Waits for new mail: IMAP IDLE where offered, ended early by the server's news of an arrival; else a plain wait. Either
    /// way no longer than a lease renewal period, so the lease stays ours and the folder for a person is recounted.
    /// </summary>
    private async Task WaitForMailAsync(ImapClient client, IMailFolder inbox, bool idle, CancellationToken ct)
    {
        if (!idle)
        {
            await Task.Delay(Min(Mailbox.PollInterval, RenewEvery), ct);
            return;
        }
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        done.CancelAfter(Min(LongestIdle, RenewEvery));
        void Arrived(object? sender, EventArgs e) => done.Cancel();
        inbox.CountChanged += Arrived;
        try
        {
            await client.IdleAsync(done.Token, ct);
        }
        finally
        {
            inbox.CountChanged -= Arrived;
        }
    }

    private async Task<bool> TryTakeLeaseAsync(CancellationToken ct)
    {
        var taken = await WithDbAsync(db => MailboxLease.TryTakeAsync(db, _owner, instance.EarlierRunsPrefix, Now, Now + Mailbox.LeaseDuration, ct));
        if (taken) _sinceRenewal.Restart();
        return taken;
    }

    private async Task ReleaseLeaseAsync()
    {
        try
        {
            await WithDbAsync(async db => { await MailboxLease.ReleaseAsync(db, _owner, CancellationToken.None); return true; });
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not give up the bounce mailbox lease; another instance takes over when it runs out");
        }
    }

    private async Task RecordErrorAsync(string error)
    {
        try
        {
            await WithDbAsync(async db => { await MailboxLease.RecordErrorAsync(db, error, Now, CancellationToken.None); return true; });
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not record the bounce mailbox error");
        }
    }

    /// <summary>
    /// The error in words for the dashboard: what failed and which setting to look at. Never the password; the server's
    /// own words pass the same redaction as log lines, so an address or token it quotes is not stored.
    /// </summary>
    internal string Describe(Exception ex)
    {
        var where = $"{Mailbox.Host}:{Mailbox.Port}";
        var text = ex switch
        {
            AuthenticationException => $"The IMAP server {where} refused the login (check Bounces:Imap:UserName and Bounces:Imap:Password).",
            SslHandshakeException => $"The TLS handshake with {where} failed (check Bounces:Imap:Security, now {Mailbox.Security}).",
            SocketException s => $"Could not connect to {where}: {s.Message}.",
            FolderNotFoundException f => $"The folder '{f.FolderName}' does not exist on {where} (check Bounces:Imap:Folder).",
            ImapCommandException c => $"The IMAP server {where} answered {c.Response}: {c.ResponseText}",
            ImapProtocolException or IOException => $"The connection to {where} broke off: {ex.Message}",
            TimeoutException => $"The IMAP server {where} did not answer in time.",
            _ => $"Reading the mailbox at {where} failed: {ex.GetType().Name}: {ex.Message}",
        };
        if (!string.IsNullOrEmpty(Mailbox.Password)) text = text.Replace(Mailbox.Password, "***", StringComparison.Ordinal);
        return Redact.Text(text);
    }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async Task<T> WithDbAsync<T>(Func<AppDbContext, Task<T>> work)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }
}
