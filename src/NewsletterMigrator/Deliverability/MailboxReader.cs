using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Reads the bounce mailbox over IMAP (issue 16.2): every mail in <see cref="BounceMailboxOptions.Folder"/>, oldest first,
/// goes through <see cref="MailboxReportProcessor"/> and is then filed in the folder named for what it was. Then it waits for
/// new mail with IMAP IDLE where the server offers it, else it polls. Only the instance holding the lease on the
/// <see cref="MailboxState"/> row reads; the others wait. Nothing is ever deleted: a mail leaves the folder only by being
/// moved (or, without MOVE, copied before it is expunged); a mail the processor fails on stays where it is and is tried
/// again later, and after a few attempts goes to the folder for a person.
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
    /// <summary>
    /// A mail that failed this often (at least <see cref="RetryFailedMailAfter"/> apart) is filed for a person: a bug or a
    /// lasting database error must not keep a withdrawal in the inbox where nobody sees it (C44).
    /// </summary>
    internal const int GiveUpAfterAttempts = 3;

    private readonly string _owner = instance.NewLeaseOwner();
    /// <summary>When a failed mail is tried again, by UID; the attempts at processing are counted in the database.</summary>
    private readonly Dictionary<uint, (DateTime RetryAt, int FetchAttempts)> _failedMails = [];
    /// <summary>Copies filed and flagged \Deleted on a server without UIDPLUS; they wait for a mail client's expunge.</summary>
    private readonly HashSet<uint> _ownFlagged = [];
    private TimeSpan _backoff = FirstBackoff;
    private uint _failedMailsValidity;
    private readonly Stopwatch _sinceRenewal = new();

    private BounceMailboxOptions Mailbox => options.Value.Imap;

    /// <summary>The lease is renewed every third of its duration, so two missed renewals still leave it ours.</summary>
    private TimeSpan RenewEvery => Mailbox.LeaseDuration / 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Mailbox.Enabled) return;
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
                    logger.LogWarning("Another instance has taken over the bounce mailbox; this one waits");
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    var error = Describe(ex);
                    await RecordErrorAsync(error);
                    logger.LogWarning("The bounce mailbox could not be read: {Error} Next try in {Delay:g}.", error, _backoff);
                    await Task.Delay(_backoff, stoppingToken);
                    _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, LongestBackoff.Ticks));
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
            // A dropped connection after hours of reading is a first failure again, not the next step of an old series.
            _backoff = FirstBackoff;
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
            // New UIDs for the same folder (RFC 3501): the remembered UIDs no longer name the same mails.
            _failedMails.Clear();
            _ownFlagged.Clear();
            _failedMailsValidity = inbox.UidValidity;
        }
        // UIDs grow with each arrival: ascending order is the order the mails came in.
        var uids = (await inbox.SearchAsync(SearchQuery.All, ct)).OrderBy(u => u.Id).ToList();
        // Flagged \Deleted: copies the COPY fallback left behind (a crash before the expunge, or a server without
        // UIDPLUS), or mails a person deleted in a mail client.
        var flagged = uids.Count == 0 ? [] : (await inbox.SearchAsync(SearchQuery.Deleted, ct)).Select(u => u.Id).ToHashSet();
        var pending = new Dictionary<ReportKind, List<UniqueId>>();
        var leftovers = new List<UniqueId>();
        var kinds = new Dictionary<ReportKind, int>();
        int pendingCount = 0, failed = 0, left = 0;
        try
        {
            foreach (var uid in uids)
            {
                if (_ownFlagged.Contains(uid.Id) || (_failedMails.TryGetValue(uid.Id, out var earlier) && earlier.RetryAt > Now))
                {
                    left++;
                    continue;
                }
                var result = await ProcessAsync(client, inbox, uid, flagged.Contains(uid.Id), ct);
                if (result.Leftover)
                {
                    leftovers.Add(uid);
                    continue;
                }
                if (result.Kind is not { } kind)
                {
                    failed++;
                    left++;
                    continue;
                }
                _failedMails.Remove(uid.Id);
                kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
                (pending.TryGetValue(kind, out var list) ? list : pending[kind] = []).Add(uid);
                if (++pendingCount >= MoveBatch)
                {
                    await MoveAsync(client, inbox, outcomes, pending, ct);
                    pendingCount = 0;
                }
                if (_sinceRenewal.Elapsed >= RenewEvery)
                {
                    // Filed in the finally before giving up, so the instance taking over need not file them again.
                    if (!await WithDbAsync(db => MailboxLease.RenewAsync(db, _owner, Now + Mailbox.LeaseDuration, ct))) return null;
                    _sinceRenewal.Restart();
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The connection broke or the server refused a command: what was processed is filed if the server still answers;
            // else the next round finds those mails recorded and files them without processing them again.
            try
            {
                await MoveAsync(client, inbox, outcomes, pending, ct);
            }
            catch (Exception moving) when (moving is not OperationCanceledException)
            {
                logger.LogWarning("Processed mails could not be filed ({Error}); they are filed at the next check", moving.GetType().Name);
                foreach (var list in pending.Values) list.Clear();
            }
            throw;
        }
        finally
        {
            // Also when the lease was lost on the way: filed now, so the instance taking over need not file them again.
            if (pending.Values.Any(p => p.Count > 0) && client.IsConnected) await MoveAsync(client, inbox, outcomes, pending, ct);
        }
        left += await ExpungeLeftoversAsync(client, inbox, leftovers, ct);
        if (kinds.Count > 0 || failed > 0)
        {
            logger.LogInformation("Bounce mailbox: filed {Count} mail(s) ({Kinds}); {Failed} could not be processed and stay in the folder",
                kinds.Values.Sum(), string.Join(", ", kinds.OrderBy(k => k.Key).Select(k => $"{MailboxFolders.NameOf(k.Key)} {k.Value}")), failed);
        }
        return new Round(left);
    }

    /// <param name="Kind">The folder the mail goes to; null when it stays in the inbox for now.</param>
    /// <param name="Leftover">A copy the COPY fallback already filed and flagged \Deleted: to be expunged, not filed again.</param>
    private readonly record struct MailResult(ReportKind? Kind, bool Leftover = false);

    /// <summary>
    /// Fetches and processes one mail. A mail the server will not hand out, or the processor fails on, stays in the folder
    /// and is tried again later; after <see cref="GiveUpAfterAttempts"/> attempts it goes to the folder for a person, so
    /// every mail is carried out or seen by staff (C44) and none is lost.
    /// </summary>
    private async Task<MailResult> ProcessAsync(ImapClient client, IMailFolder inbox, UniqueId uid, bool flaggedDeleted, CancellationToken ct)
    {
        // BODY.PEEK[]: the exact bytes, so the same mail always has the same hash, and no \Seen flag set by reading it.
        byte[] raw;
        try
        {
            await using var stream = await inbox.GetStreamAsync(uid, ct);
            raw = new byte[stream.Length];
            await stream.ReadExactlyAsync(raw, ct);
        }
        catch (Exception ex) when (ex is ImapCommandException or ImapProtocolException or IOException)
        {
            // The server refused this one mail (a damaged file, a permission): with NO, or, like Dovecot, by hanging up. Remembered
            // by UID across the reconnect, so the next round passes it by and the others go on.
            var attempts = (_failedMails.TryGetValue(uid.Id, out var earlier) ? earlier.FetchAttempts : 0) + 1;
            _failedMails[uid.Id] = (Now + RetryFailedMailAfter, attempts);
            logger.LogError("The IMAP server would not hand out mail {Uid} of the bounce mailbox ({Error}), attempt {Attempts}",
                uid.Id, ex.GetType().Name, attempts);
            if (ex is not ImapCommandException) throw;
            // Unread, so not recorded: it waits for a person in the folder, where the dashboard counts it.
            return new MailResult(attempts >= GiveUpAfterAttempts ? ReportKind.Unknown : null);
        }
        var sha = SHA256.HashData(raw);
        if (flaggedDeleted && !client.Capabilities.HasFlag(ImapCapabilities.Move)
            && await WithDbAsync(db => db.MailboxMails.AnyAsync(m => m.ContentSha256 == sha, ct)))
            return new MailResult(null, Leftover: true);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            return new MailResult(await scope.ServiceProvider.GetRequiredService<MailboxReportProcessor>().ProcessAsync(raw, ct));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            _failedMails[uid.Id] = (Now + RetryFailedMailAfter, 0);
            // The log line names the mail by its UID only; the exception passes the log redaction like every other (C20).
            logger.LogError(ex, "Mail {Uid} in the bounce mailbox could not be processed", uid.Id);
            try
            {
                return new MailResult(await RecordFailureAsync(sha, ex, ct) ? ReportKind.Unknown : null);
            }
            catch (Exception recording) when (!ct.IsCancellationRequested)
            {
                // The database itself fails: the mail stays in the folder and is tried again; nothing is lost.
                logger.LogError(recording, "The failure of mail {Uid} could not be recorded; it is tried again in {Delay:g}", uid.Id, RetryFailedMailAfter);
                return new MailResult(null);
            }
        }
    }

    /// <summary>
    /// Counts a failed attempt for the mail with this hash; at the last one records the mail as Unknown, so it is filed for a
    /// person and known when seen again. True when the reader gives up on it.
    /// </summary>
    private Task<bool> RecordFailureAsync(byte[] sha, Exception ex, CancellationToken ct) => WithDbAsync(async db =>
    {
        var failure = await db.MailboxFailures.SingleOrDefaultAsync(f => f.ContentSha256 == sha, ct);
        if (failure is null) db.MailboxFailures.Add(failure = new MailboxFailure { ContentSha256 = sha });
        failure.Attempts++;
        failure.LastAttemptAtUtc = Now;
        failure.LastError = ex.GetType().Name;
        var giveUp = failure.Attempts >= GiveUpAfterAttempts;
        if (giveUp)
        {
            failure.GaveUpAtUtc = Now;
            db.MailboxMails.Add(new MailboxMail
            {
                ContentSha256 = sha, Kind = ReportKind.Unknown, ProcessedAtUtc = Now,
                Outcome = $"could not be processed ({ex.GetType().Name}, {failure.Attempts} attempts): left for a person",
            });
        }
        else
        {
            logger.LogWarning("Mail with a failed attempt stays in the bounce mailbox and is tried again in {Delay:g} (attempt {Attempts} of {Limit})",
                RetryFailedMailAfter, failure.Attempts, GiveUpAfterAttempts);
        }
        await db.SaveChangesAsync(ct);
        return giveUp;
    });

    /// <summary>
    /// Moves the processed mails to their folders and empties <paramref name="pending"/>. MOVE (RFC 6851) where the server
    /// has it; else COPY, then \Deleted and an expunge of just these UIDs (UIDPLUS, RFC 4315). A crash between COPY and
    /// EXPUNGE leaves a copy in both places, never none; the flagged one is recognised as filed and not copied again.
    /// Without UIDPLUS nothing is expunged: a plain EXPUNGE would also delete mails a person flagged \Deleted, which the
    /// app has not filed. The flagged copies stay until a mail client expunges them.
    /// </summary>
    private async Task MoveAsync(ImapClient client, IMailFolder inbox, OutcomeFolders outcomes, Dictionary<ReportKind, List<UniqueId>> pending, CancellationToken ct)
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
                else foreach (var uid in uids) _ownFlagged.Add(uid.Id);
            }
            uids.Clear();
        }
    }

    /// <summary>Expunges the filed copies found flagged in the folder; returns how many stay (no UIDPLUS).</summary>
    private async Task<int> ExpungeLeftoversAsync(ImapClient client, IMailFolder inbox, List<UniqueId> leftovers, CancellationToken ct)
    {
        if (leftovers.Count == 0) return 0;
        if (client.Capabilities.HasFlag(ImapCapabilities.UidPlus))
        {
            await inbox.ExpungeAsync(leftovers, ct);
            leftovers.Clear();
            return 0;
        }
        foreach (var uid in leftovers) _ownFlagged.Add(uid.Id);
        var count = leftovers.Count;
        leftovers.Clear();
        return count;
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
