using System.Diagnostics;
using System.Security.Cryptography;
using MailKit;
using MailKit.Search;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// Issue 16.5: N mixed reports (hard and soft DSNs, ARF complaints, auto-replies, unsubscribe mails, questions) in a real
/// Dovecot, read by the app's <see cref="MailboxReader"/> until the inbox is empty (fetch, process on a SQLite file, move),
/// compared with a raw run in the same process: the same IMAP fetch and move of the same number of mails, without processing.
/// Every report names a mail the app really sent: the database holds a newsletter, its confirmed readers and a campaign
/// fanned out to them by the app, and the reports use each row's VERP return path, Message-ID and reader's unsubscribe
/// token, so the reader does the real work (find the row, mark, suppress, unsubscribe, count soft bounces). The effects
/// are checked afterwards: a run where the reports matched nothing fails.
/// </summary>
public static class BounceBenchmark
{
    private const int MoveBatch = 100;
    private const int WarmUp = 300;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        if (TestDovecot.MissingReason is { } missing)
        {
            Console.Error.WriteLine(missing);
            return 1;
        }
        await using var dovecot = await TestDovecot.StartAsync();
        var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        try
        {
            Console.WriteLine($"bounces: {count:N0} mixed reports in Dovecot 2.3 on loopback, {Environment.ProcessorCount} CPU(s), " +
                              $"GC {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}");
            var app = BuildApp(dataDirectory, dovecot);
            await app.MigrateDatabaseAsync();
            var seeding = Stopwatch.StartNew();
            var sent = await SeedAsync(app, WarmUp + count);
            Console.WriteLine($"seeded:        {sent.Length:N0} confirmed readers, a campaign fanned out to them by the app, every row accepted, in {seeding.Elapsed.TotalSeconds:N1} s (set-up, not measured)");

            // Warm-up, so neither side pays for JIT compilation: a few hundred through each, on readers of their own.
            var warmUp = Reports(sent[..WarmUp], 0);
            await dovecot.AppendAsync(warmUp.Mails);
            await RawAsync(dovecot);
            await dovecot.AppendAsync(warmUp.Mails);
            await ReadAllAsync(app, dovecot, CancellationToken.None, sample: null);

            var measured = Reports(sent[WarmUp..], 1_000_000);
            var appending = Stopwatch.StartNew();
            await dovecot.AppendAsync(measured.Mails);
            Console.WriteLine($"appended:      {count:N0} mails in {appending.Elapsed.TotalSeconds:N1} s (set-up, not measured): {measured.Expected}");
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            long rawPeakHeap = 0;
            using var rawSampler = new Timer(_ => rawPeakHeap = Math.Max(rawPeakHeap, GC.GetGCMemoryInfo().HeapSizeBytes / 1024 / 1024), null, 0, 100);
            var raw = Stopwatch.StartNew();
            var moved = await RawAsync(dovecot);
            raw.Stop();
            var rawRate = moved / raw.Elapsed.TotalSeconds;
            Console.WriteLine($"raw IMAP:      {rawRate,8:N0} mails/s  ({moved:N0} fetched and moved in {raw.Elapsed.TotalSeconds:N1} s, no processing; GC heap at most {rawPeakHeap:N0} MB)");

            // The same mails again (the raw run moved them out unprocessed): the reader processes each for the first time.
            await dovecot.AppendAsync(measured.Mails);
            var before = await app.Services.CreateAsyncScope().ServiceProvider.GetRequiredService<AppDbContext>().MailboxMails.CountAsync();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            SendBenchmark.ResetPeakMemory();
            var baseline = SendBenchmark.ProcStatusMb("VmRSS:");
            long peakHeap = 0, peakCommitted = 0;
            var (cpuBefore, gcsBefore, allocatedBefore) = (Process.GetCurrentProcess().TotalProcessorTime, GC.CollectionCount(0), GC.GetTotalAllocatedBytes());
            var reader = Stopwatch.StartNew();
            await ReadAllAsync(app, dovecot, CancellationToken.None, sample: () =>
            {
                var gc = GC.GetGCMemoryInfo();
                peakHeap = Math.Max(peakHeap, gc.HeapSizeBytes / 1024 / 1024);
                peakCommitted = Math.Max(peakCommitted, gc.TotalCommittedBytes / 1024 / 1024);
            });
            reader.Stop();
            var (cpu, gcs, allocated) = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore, GC.CollectionCount(0) - gcsBefore, GC.GetTotalAllocatedBytes() - allocatedBefore);
            var liveAfter = GC.GetTotalMemory(forceFullCollection: true) / 1024 / 1024;
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var processed = await db.MailboxMails.CountAsync() - before;
            var rate = processed / reader.Elapsed.TotalSeconds;
            Console.WriteLine($"mailbox reader:{rate,8:N0} reports/s  ({processed:N0} processed and filed in {reader.Elapsed.TotalSeconds:N1} s; target >= 200/s)");
            Console.WriteLine($"ratio:         {rate / rawRate:P0} of raw IMAP fetch and move");
            Console.WriteLine($"CPU:           {cpu.TotalMilliseconds / processed:N2} ms per report in this process ({cpu.TotalSeconds:N1} s for {reader.Elapsed.TotalSeconds:N1} s of reading), " +
                              $"{allocated / processed / 1024:N0} KB allocated per report, {gcs:N0} collections, {GC.GetTotalPauseDuration().TotalSeconds:N1} s paused in GC over the whole run");
            Console.WriteLine($"peak memory:   {SendBenchmark.ProcStatusMb("VmHWM:"):N0} MB process working set (VmHWM) while reading; {baseline:N0} MB just before; " +
                              $"GC heap at most {peakHeap:N0} MB, {peakCommitted:N0} MB committed (sampled every 100 ms), {liveAfter:N0} MB live after a full collection at the end; Dovecot is a process of its own");
            return await CheckAsync(db, warmUp.Expected + measured.Expected) ? 0 : 2;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>One accepted campaign mail as the reports name it: its row, Message-ID, VERP return path, and its reader's address and unsubscribe token.</summary>
    private sealed record SentMail(long RowId, string MessageId, string ReturnPath, string Address, string UnsubscribeToken);

    /// <summary>What the reports should have done, counted as they are written.</summary>
    private sealed record Expected(int HardBounces, int SoftBounces, int SoftBouncedAddresses, int Complaints, int Unsubscribes, int AutoReplies, int Questions)
    {
        /// <summary>Addresses ended for good: hard bounces, and addresses that soft-bounced on 3 separate days.</summary>
        public int Bounced => HardBounces + SoftBouncedAddresses;

        public static Expected operator +(Expected a, Expected b) => new(a.HardBounces + b.HardBounces, a.SoftBounces + b.SoftBounces,
            a.SoftBouncedAddresses + b.SoftBouncedAddresses, a.Complaints + b.Complaints, a.Unsubscribes + b.Unsubscribes,
            a.AutoReplies + b.AutoReplies, a.Questions + b.Questions);

        public override string ToString() =>
            $"{HardBounces:N0} hard DSNs, {SoftBounces:N0} soft DSNs ({SoftBouncedAddresses:N0} addresses on 3 separate days), {Complaints:N0} ARF complaints, " +
            $"{Unsubscribes:N0} unsubscribe mails, {AutoReplies:N0} auto-replies, {Questions:N0} questions";
    }

    /// <summary>
    /// Six kinds in turn, report i about mail i (its row, Message-ID, return path, token), as the mix a real bounce mailbox
    /// gets. Of every four soft-bounce slots, three go to one address on three separate days (the 3-day rule makes it
    /// hard) and one to an address of its own once. <paramref name="first"/> numbers the reports' own Message-IDs.
    /// </summary>
    private static (IReadOnlyList<byte[]> Mails, Expected Expected) Reports(IReadOnlyList<SentMail> mails, int first)
    {
        var now = DateTimeOffset.UtcNow;
        string Date(int daysAgo) => BounceMails.Date(now.AddDays(-daysAgo).AddHours(-1).ToOffset(TimeSpan.FromHours(1)));
        int hard = 0, soft = 0, softAddresses = 0, complaints = 0, unsubscribes = 0, autoReplies = 0, questions = 0;
        var result = new List<byte[]>(mails.Count);
        for (var i = 0; i < mails.Count; i++)
        {
            var m = mails[i];
            var n = first + i;
            string mail;
            switch (i % 6)
            {
                case 0:
                    mail = BounceMails.HardBounce(n, m.ReturnPath, m.Address, m.MessageId, Date(0));
                    hard++;
                    break;
                case 1:
                    var slot = i / 6;
                    var group = slot % 4 == 3 ? slot : slot - slot % 4;
                    // The group's first slot must exist in this list for its address to be used.
                    var target = mails[group * 6 + 1];
                    var daysAgo = slot % 4 == 3 ? 1 : slot % 4 + 1;
                    mail = BounceMails.SoftBounce(n, target.ReturnPath, target.Address, target.MessageId, Date(daysAgo));
                    soft++;
                    if (slot % 4 == 2) softAddresses++;
                    break;
                case 2:
                    mail = BounceMails.Complaint(n, returnPath: null, m.Address, m.MessageId, Date(0));
                    complaints++;
                    break;
                case 3:
                    mail = BounceMails.AutoReply(n, m.ReturnPath, m.Address, m.MessageId, Date(0));
                    autoReplies++;
                    break;
                case 4:
                    mail = BounceMails.Unsubscribe(n, m.UnsubscribeToken, m.Address, Date(0));
                    unsubscribes++;
                    break;
                default:
                    mail = BounceMails.Question(n, m.ReturnPath, m.Address, m.MessageId, Date(0));
                    questions++;
                    break;
            }
            result.Add(System.Text.Encoding.UTF8.GetBytes(mail.ReplaceLineEndings("\r\n")));
        }
        return (result, new Expected(hard, soft, softAddresses, complaints, unsubscribes, autoReplies, questions));
    }

    /// <summary>Prints what the reports did against what they should have done; false (a failed run) when they differ.</summary>
    private static async Task<bool> CheckAsync(AppDbContext db, Expected expected)
    {
        var kinds = await db.MailboxMails.GroupBy(m => m.Kind).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(k => k.Key, k => k.Count);
        var statuses = await db.Subscribers.GroupBy(s => s.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(k => k.Key, k => k.Count);
        var suppressed = await db.Suppressions.CountAsync(s => s.Kind == SuppressionKind.Email);
        var withdrawals = await db.ConsentEvents.Where(e => e.Kind == ConsentEventKind.Withdrawn)
            .GroupBy(e => e.Channel).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(k => k.Key ?? "", k => k.Count);
        var events = await db.DeliveryEvents.GroupBy(e => e.Kind).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(k => k.Key, k => k.Count);
        var checks = new (string What, int Actual, int Expected)[]
        {
            ("readers bounced (hard + soft on 3 days)", statuses.GetValueOrDefault(SubscriberStatus.Bounced), expected.Bounced),
            ("addresses suppressed (bounced + complaints)", suppressed, expected.Bounced + expected.Complaints),
            ("readers unsubscribed (complaints + unsubscribe mails)", statuses.GetValueOrDefault(SubscriberStatus.Unsubscribed), expected.Complaints + expected.Unsubscribes),
            ("withdrawals by complaint", withdrawals.GetValueOrDefault(WithdrawalChannel.Complaint), expected.Complaints),
            ("withdrawals by mailto", withdrawals.GetValueOrDefault(WithdrawalChannel.Mailto), expected.Unsubscribes),
            ("hard-bounce events", events.GetValueOrDefault(DeliveryEventKind.HardBounce), expected.HardBounces),
            ("soft-bounce events", events.GetValueOrDefault(DeliveryEventKind.SoftBounce), expected.SoftBounces),
            ("complaint events", events.GetValueOrDefault(DeliveryEventKind.Complaint), expected.Complaints),
            ("filed as hard bounce", kinds.GetValueOrDefault(ReportKind.HardBounce), expected.HardBounces),
            ("filed as soft bounce", kinds.GetValueOrDefault(ReportKind.SoftBounce), expected.SoftBounces),
            ("filed as complaint", kinds.GetValueOrDefault(ReportKind.Complaint), expected.Complaints),
            ("filed as unsubscribe", kinds.GetValueOrDefault(ReportKind.Unsubscribe), expected.Unsubscribes),
            ("filed as auto-reply", kinds.GetValueOrDefault(ReportKind.AutoReply), expected.AutoReplies),
            ("left for a person", kinds.GetValueOrDefault(ReportKind.Unknown), expected.Questions),
        };
        var failed = checks.Where(c => c.Actual != c.Expected).ToList();
        Console.WriteLine($"effects:       {(failed.Count == 0 ? "OK" : "FAILED")}, warm-up and measured run together: " +
                          string.Join(", ", checks.Select(c => c.Actual == c.Expected ? $"{c.What} {c.Actual:N0}" : $"{c.What} {c.Actual:N0} (expected {c.Expected:N0})")));
        if (failed.Count > 0) Console.Error.WriteLine("The reports did not have the effects they should: the figures above do not measure the real work.");
        return failed.Count == 0;
    }

    /// <summary>
    /// A newsletter, <paramref name="readers"/> confirmed readers and a campaign the app fans out to them (one outbox row
    /// each, with the Message-ID it writes); every row then marked accepted as the delivery worker records it. The campaign
    /// stays Sending, as while the bounces of a large send come in, so each hard bounce and complaint runs the self-pause
    /// check (its limits are raised so the bench's mix, far above any real rate, does not pause it).
    /// </summary>
    private static async Task<SentMail[]> SeedAsync(WebApplication app, int readers)
    {
        int newsletterId, campaignId;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var newsletter = await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
            {
                Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = $"newsletter@{BounceMails.Domain}",
                Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt",
                ControllerName = "Tagblatt GmbH", ControllerAddress = "Musterstraße 1, 12345 Musterstadt", ControllerEmail = $"datenschutz@{BounceMails.Domain}",
                PrivacyNoticeUrl = $"https://{BounceMails.Domain}/datenschutz", PrivacyNoticeVersion = "2026-11",
            }, "bench");
            newsletterId = newsletter.Id;
            campaignId = (await scope.ServiceProvider.GetRequiredService<CampaignService>().SaveDraftAsync(newsletterId, null,
                "Eilmeldung: Brücke gesperrt", "Was Sie heute wissen müssen", "Die **Brücke** ist gesperrt.", "bench"))!.Value;
        }
        // Confirmed readers in bulk, each with the unsubscribe token hash sign-up gives it (SignUpService).
        var tokens = app.Services.GetRequiredService<TokenService>();
        var confirmedAt = DateTime.UtcNow.AddDays(-40);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = 0; i < readers; i++)
            {
                var email = $"leser{i:D7}@example.test";
                var id = Guid.CreateVersion7();
                db.Subscribers.Add(new Subscriber
                {
                    Id = id, NewsletterId = newsletterId, Email = email, EmailKey = email, Language = "de", Status = SubscriberStatus.Confirmed,
                    UnsubscribeTokenHash = TokenService.Hash(tokens.Create(TokenPurpose.Unsubscribe, id, 0)), CreatedAtUtc = confirmedAt, ConfirmedAtUtc = confirmedAt,
                });
            }
            await db.SaveChangesAsync();
        }
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<CampaignService>().StartAsync(newsletterId, campaignId, "bench");
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            // What the delivery worker records for an accepted mail (DeliveryResults), without sending 10,000 mails first.
            var acceptedAt = DateTime.UtcNow.AddHours(-2);
            await db.OutboundMessages.Where(m => m.CampaignId == campaignId).ExecuteUpdateAsync(u => u
                .SetProperty(m => m.Status, MessageStatus.Sent).SetProperty(m => m.Attempts, 1).SetProperty(m => m.SentAtUtc, acceptedAt)
                .SetProperty(m => m.LastReply, "250 2.0.0 Ok: queued"));
            await db.Subscribers.Where(s => s.NewsletterId == newsletterId).ExecuteUpdateAsync(u => u.SetProperty(s => s.FirstNewsletterSentAtUtc, acceptedAt));
            var verp = scope.ServiceProvider.GetRequiredService<VerpAddress>();
            var rows = await db.OutboundMessages.AsNoTracking().Where(m => m.CampaignId == campaignId).OrderBy(m => m.Id)
                .Join(db.Subscribers, m => m.SubscriberId, s => (Guid?)s.Id, (m, s) => new { m.Id, m.MessageId, m.ToAddress, SubscriberId = s.Id, s.TokenGeneration })
                .ToListAsync();
            // The return path and the token in List-Unsubscribe as MessageFactory writes them into each mail.
            return rows.Select(r => new SentMail(r.Id, r.MessageId, verp.For(r.Id)!.Address, r.ToAddress,
                tokens.Create(TokenPurpose.Unsubscribe, r.SubscriberId, r.TokenGeneration))).ToArray();
        }
    }

    /// <summary>Runs the app's reader (started by hand, as the host is never started) until the inbox is empty.</summary>
    private static async Task ReadAllAsync(WebApplication app, TestDovecot dovecot, CancellationToken ct, Action? sample)
    {
        var reader = app.Services.GetServices<IHostedService>().OfType<MailboxReader>().Single();
        await reader.StartAsync(ct);
        using var client = await dovecot.ConnectAsync();
        while (true)
        {
            await client.Inbox.StatusAsync(StatusItems.Count, ct);
            if (client.Inbox.Count == 0) break;
            for (var i = 0; i < 5; i++)
            {
                sample?.Invoke();
                await Task.Delay(100, ct);
            }
        }
        await reader.StopAsync(ct);
    }

    /// <summary>The yardstick: every mail fetched (BODY.PEEK[]) and moved in groups, as the reader does, but nothing processed.</summary>
    private static async Task<int> RawAsync(TestDovecot dovecot)
    {
        using var client = await dovecot.ConnectAsync();
        var target = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Raw" + Guid.NewGuid().ToString("N")[..8], true);
        await client.Inbox.OpenAsync(FolderAccess.ReadWrite);
        var uids = await client.Inbox.SearchAsync(SearchQuery.All);
        var pending = new List<UniqueId>();
        long bytes = 0;
        foreach (var uid in uids)
        {
            await using (var stream = await client.Inbox.GetStreamAsync(uid))
            {
                var raw = new byte[stream.Length];
                await stream.ReadExactlyAsync(raw);
                bytes += raw.Length;
            }
            pending.Add(uid);
            if (pending.Count == MoveBatch)
            {
                await client.Inbox.MoveToAsync(pending, target!);
                pending.Clear();
            }
        }
        if (pending.Count > 0) await client.Inbox.MoveToAsync(pending, target!);
        await client.DisconnectAsync(true);
        return uids.Count;
    }

    private static WebApplication BuildApp(string dataDirectory, TestDovecot dovecot)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", Args = [] });
        var settings = new Dictionary<string, string?>
        {
            ["App:PublicBaseUrl"] = $"https://{BounceMails.Domain}",
            ["App:DataDirectory"] = dataDirectory,
            ["App:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "bench.db")}",
            ["Smtp:PickupDirectory"] = Path.Combine(dataDirectory, "pickup"),
            ["Privacy:MailProvider"] = "Bench Mail GmbH", // Production names the processor (C40)
            ["Sending:UnsubscribeMailbox"] = $"abmelden@{BounceMails.Domain}",
            // VERP on: each outbox mail's return path names its row (issue 16.1).
            ["Bounces:ReturnPathDomain"] = BounceMails.Domain,
            // The mix is a sixth hard bounces and a sixth complaints; real limits would pause the campaign at once and
            // skip the self-pause check from then on. At 100 % it runs on every hard bounce and complaint.
            ["Bounces:PauseAtComplaintPercent"] = "100",
            ["Bounces:PauseAtHardBouncePercent"] = "100",
        };
        foreach (var (key, value) in dovecot.Settings()) settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddValidatedOptions();
        builder.AddStorage();
        builder.AddStaffIdentity();
        builder.AddNewsletterFeatures();
        builder.AddWebFrontEnd();
        return builder.Build();
    }
}
