using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The retention jobs (C15–C17), driven directly with a clock the test moves.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 6, 15, 10, 0, 0, TimeSpan.Zero);
    private readonly AppFactory _base = new();
    private readonly ManualClock _clock = new(Start);
    private WebApplicationFactory<Program> _app = null!;

    public Task InitializeAsync()
    {
        _app = _base.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(_clock)));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _base.DisposeAsync();
    }

    private async Task<RetentionRun> RunAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync("test") ?? throw new InvalidOperationException("Another retention run held the lease.");
    }

    private async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    private async Task<Newsletter> NewsletterAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Newsletters.NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            Impressum = "Tagblatt GmbH", PrivacyNoticeUrl = "https://tagblatt.example.test/datenschutz",
        }.Complete(), "test");
    }

    /// <summary>
    /// C47: a former subscriber who signs up again and never confirms is an unconfirmed sign-up like any other
    /// (C15); the earlier subscription's proof stays until its own C17 period ends.
    /// </summary>
    [Fact]
    public async Task A_former_subscriber_who_signs_up_again_and_never_confirms_is_removed_and_the_old_proof_stays_under_C17_C47()
    {
        const string Email = "ehemalig@example.test";
        var newsletter = await NewsletterAsync();
        // The first subscription: confirmed, one newsletter, then withdrawn.
        var reader = await _app.ConfirmedReaderAsync(_base.Smtp, "/n/eilmeldungen", Email);
        var issue = await _app.NewsletterMailAsync(_base.Smtp, newsletter, Email, "Ausgabe Juni 2026");
        var unsubscribe = ReaderSteps.PathOf(issue, "/u/");
        await reader.PostFormAsync(unsubscribe, await reader.GetStringAsync(unsubscribe), []);
        var subscriberId = await DbAsync(db => db.Subscribers.Where(s => s.EmailKey == Email && s.Status == SubscriberStatus.Unsubscribed).Select(s => s.Id).SingleAsync());

        // Ten days later the same address signs up again and never confirms.
        _clock.Now = Start.AddDays(10);
        var before = _base.Smtp.Messages.Count;
        await _app.SignUpAsync("/n/eilmeldungen", Email);
        await _base.Smtp.WaitForAsync(m => _base.Smtp.Messages.Skip(before).Contains(m) && m.Subject!.Contains("bestätigen"));
        await ReaderSteps.WaitUntilAsync(() => DbAsync(db => db.OutboundMessages.AllAsync(m => m.Status == MessageStatus.Sent)));
        Assert.Equal(SubscriberStatus.Pending, (await DbAsync(db => db.Subscribers.SingleAsync())).Status);

        // Within the period the pending address stays …
        _clock.Now = Start.AddDays(16);
        Assert.Equal(0, (await RunAsync()).UnconfirmedDeleted);
        // … after Retention:UnconfirmedAfter (7 days) it goes, like any other unconfirmed sign-up.
        _clock.Now = Start.AddDays(17).AddMinutes(1);
        var run = await RunAsync();
        Assert.Null(run.Error);
        Assert.Equal(1, run.UnconfirmedDeleted);
        Assert.False(await DbAsync(db => db.Subscribers.AnyAsync()));
        Assert.DoesNotContain(await DbAsync(db => db.OutboundMessages.ToListAsync()), m => m.ToAddress.Contains("ehemalig"));

        // The proof of both sign-ups, the confirmation and the withdrawal stays, pseudonymised (C18) …
        var pseudonym = await DbAsync(db => db.ErasedSubscribers.SingleAsync());
        Assert.Equal(subscriberId, pseudonym.SubscriberId);
        Assert.Equal(SuppressionHash.Email(_app.Services.GetRequiredService<KeyRing>(), Email), pseudonym.EmailHash);
        var kinds = await DbAsync(db => db.ConsentEvents.Where(e => e.SubscriberId == subscriberId).Select(e => e.Kind).ToListAsync());
        Assert.Equal(2, kinds.Count(k => k == ConsentEventKind.SignUp));
        Assert.Contains(ConsentEventKind.Confirmed, kinds);
        Assert.Contains(ConsentEventKind.Withdrawn, kinds);
        // … with the last mail carried over for the C17 period.
        var lastMail = await DbAsync(db => db.OutboundMessages.Where(m => m.SubscriberId == subscriberId).MaxAsync(m => m.SentAtUtc));
        Assert.Equal(lastMail, pseudonym.LastMailAtUtc);

        // 31 Dec 2029, 23:30 Berlin: still within C17 (2026 + 3 years); 1 Jan 2030, 00:30 Berlin: gone.
        _clock.Now = new DateTimeOffset(2029, 12, 31, 22, 30, 0, TimeSpan.Zero);
        Assert.Equal(0, (await RunAsync()).ConsentProofsDeleted);
        Assert.True(await DbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == subscriberId)));
        _clock.Now = new DateTimeOffset(2029, 12, 31, 23, 30, 0, TimeSpan.Zero);
        Assert.Equal(1, (await RunAsync()).ConsentProofsDeleted);
        Assert.False(await DbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == subscriberId)));
        Assert.False(await DbAsync(db => db.ErasedSubscribers.AnyAsync()));
    }

    [Fact]
    public async Task Unconfirmed_sign_ups_are_deleted_after_seven_days_and_the_run_is_recorded_C15()
    {
        await NewsletterAsync();
        await _app.SignUpAsync("/n/eilmeldungen", "unbestaetigt@example.test");
        await _base.Smtp.WaitForAsync("unbestaetigt@example.test", "bestätigen");
        await _app.ConfirmedReaderAsync(_base.Smtp, "/n/eilmeldungen", "bestaetigt@example.test");

        _clock.Now = Start.AddDays(6);
        var early = await RunAsync();
        Assert.Equal(0, early.UnconfirmedDeleted);
        Assert.Equal(2, await DbAsync(db => db.Subscribers.CountAsync()));

        _clock.Now = Start.AddDays(7).AddMinutes(1);
        var run = await RunAsync();
        Assert.Equal(1, run.UnconfirmedDeleted);
        Assert.Null(run.Error);
        var left = await DbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal("bestaetigt@example.test", left.Email);
        // The sign-up's ledger rows stay pseudonymised until C17 ends; no suppression (it was no erasure).
        var pseudonym = await DbAsync(db => db.ErasedSubscribers.SingleAsync());
        Assert.Equal("unconfirmed", pseudonym.Reason);
        Assert.True(await DbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == pseudonym.SubscriberId && e.Kind == ConsentEventKind.SignUp)));
        Assert.False(await DbAsync(db => db.Suppressions.AnyAsync()));
        Assert.DoesNotContain(await DbAsync(db => db.OutboundMessages.ToListAsync()), m => m.ToAddress.Contains("unbestaetigt"));
        var recorded = await DbAsync(db => db.RetentionRuns.OrderBy(r => r.Id).ToListAsync());
        Assert.Equal([0, 1], recorded.Select(r => r.UnconfirmedDeleted));
        Assert.All(recorded, r => Assert.NotNull(r.FinishedAtUtc));
    }

    [Fact]
    public async Task Phone_numbers_and_names_go_when_the_migration_ends_C16()
    {
        var newsletter = await NewsletterAsync();
        var end = Start.AddDays(30).UtcDateTime;
        await DbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.MigrationEndsAtUtc, end)));
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var importer = scope.ServiceProvider.GetRequiredService<Importing.ContactImporter>();
            using var file = new MemoryStream("Telefon;Name\n0160 24 24 24 0;Anna\n0171 5551234;Ben\n"u8.ToArray());
            Assert.False((await importer.ImportAsync(newsletter.Id, file, "liste.csv", "test", TestImports.Basis)).Refused);
        }

        Assert.Equal(0, (await RunAsync()).PhoneNumbersDeleted);
        Assert.Equal(2, await DbAsync(db => db.Contacts.CountAsync(c => c.PhoneEncrypted != null && c.DisplayName != null)));

        _clock.Now = Start.AddDays(31);
        Assert.Equal(2, (await RunAsync()).PhoneNumbersDeleted);
        var contacts = await DbAsync(db => db.Contacts.ToListAsync());
        Assert.Equal(2, contacts.Count); // the funnel keeps its counts
        Assert.All(contacts, c => Assert.Null(c.PhoneEncrypted));
        Assert.All(contacts, c => Assert.Null(c.DisplayName));
        var hmac = _app.Services.GetRequiredService<Common.PhoneProtector>().Hmac("+491602424240");
        Assert.DoesNotContain(contacts, c => c.PhoneHmac.SequenceEqual(hmac));
        Assert.Equal(0, await DbAsync(db => db.ContactPhones.CountAsync())); // no longer found by the number (C16)
        Assert.Equal(0, (await RunAsync()).PhoneNumbersDeleted); // nothing left to do
    }

    [Fact]
    public async Task Consent_proof_is_kept_until_the_end_of_the_third_year_after_the_last_mail_C17()
    {
        var newsletter = await NewsletterAsync();
        var reader = await _app.ConfirmedReaderAsync(_base.Smtp, "/n/eilmeldungen", "ehemalig@example.test");
        await _app.ConfirmedReaderAsync(_base.Smtp, "/n/eilmeldungen", "treu@example.test");
        var mail = await _app.NewsletterMailAsync(_base.Smtp, newsletter, "ehemalig@example.test", "Ausgabe Juni 2026");
        var unsubscribe = ReaderSteps.PathOf(mail, "/u/");
        await reader.PostFormAsync(unsubscribe, await reader.GetStringAsync(unsubscribe), []);
        var former = await DbAsync(db => db.Subscribers.SingleAsync(s => s.Status == SubscriberStatus.Unsubscribed));

        // 31 Dec 2029, 23:30 Berlin: still within the period (2026 + 3 years).
        _clock.Now = new DateTimeOffset(2029, 12, 31, 22, 30, 0, TimeSpan.Zero);
        Assert.Equal(0, (await RunAsync()).ConsentProofsDeleted);
        Assert.True(await DbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == former.Id)));

        // 1 Jan 2030, 00:30 Berlin: the proof of the ended subscription goes; the running one stays.
        _clock.Now = new DateTimeOffset(2029, 12, 31, 23, 30, 0, TimeSpan.Zero);
        Assert.Equal(1, (await RunAsync()).ConsentProofsDeleted);
        Assert.False(await DbAsync(db => db.ConsentEvents.AnyAsync(e => e.SubscriberId == former.Id)));
        Assert.False(await DbAsync(db => db.Subscribers.AnyAsync(s => s.Id == former.Id)));
        Assert.True(await DbAsync(db => db.ConsentEvents.AnyAsync(e => db.Subscribers.Any(s => s.Id == e.SubscriberId && s.Email == "treu@example.test"))));
    }

    [Fact]
    public async Task Delivered_outbox_rows_lose_address_and_reply_after_the_configured_days()
    {
        await NewsletterAsync();
        await _app.ConfirmedReaderAsync(_base.Smtp, "/n/eilmeldungen", "leser@example.test");
        await ReaderSteps.WaitUntilAsync(() => DbAsync(db => db.OutboundMessages.AllAsync(m => m.Status == MessageStatus.Sent)));

        _clock.Now = Start.AddDays(29);
        Assert.Equal(0, (await RunAsync()).OutboxRowsScrubbed);
        _clock.Now = Start.AddDays(31);
        Assert.Equal(1, (await RunAsync()).OutboxRowsScrubbed);
        var row = await DbAsync(db => db.OutboundMessages.SingleAsync());
        Assert.Equal("", row.ToAddress);
        Assert.Null(row.LastReply);
        Assert.False(string.IsNullOrEmpty(row.MessageId)); // the proof's Message-ID stays
    }

    [Fact]
    public async Task Admin_can_run_the_jobs_now_and_sees_each_run_with_its_counts()
    {
        await NewsletterAsync();
        await _app.SignUpAsync("/n/eilmeldungen", "unbestaetigt@example.test");
        _clock.Now = Start.AddDays(8);
        await using (var scope = _app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync("admin@example.test", "long enough password", Roles.Admin, "test");
        var admin = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        await admin.SignInAsync("admin@example.test", "long enough password");

        var page = await admin.GetStringAsync("/admin/privacy/retention");
        Assert.Contains("Noch kein Lauf", page);
        var response = await admin.PostFormAsync("/admin/privacy/retention?handler=Run", page, []);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        page = await admin.GetStringAsync("/admin/privacy/retention");
        Assert.Contains("<td>admin@example.test</td><td>1</td>", page);
        Assert.True(await DbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "retention")));
    }

    [Theory]
    [InlineData("2026-11-28T10:00:00Z", "03:30", "2026-11-29T02:30:00Z")] // winter: UTC+1
    [InlineData("2026-11-28T01:00:00Z", "03:30", "2026-11-28T02:30:00Z")] // later the same day
    [InlineData("2026-06-15T10:00:00Z", "03:30", "2026-06-16T01:30:00Z")] // summer: UTC+2
    [InlineData("2027-03-27T12:00:00Z", "02:30", "2027-03-28T01:30:00Z")] // 02:30 does not exist on the switch day: 03:30 CEST
    public void The_daily_run_is_at_the_configured_Berlin_time(string now, string at, string expected)
    {
        var next = RetentionService.NextRunUtc(DateTime.Parse(now, null, System.Globalization.DateTimeStyles.AdjustToUniversal), TimeOnly.Parse(at));
        Assert.Equal(DateTime.Parse(expected, null, System.Globalization.DateTimeStyles.AdjustToUniversal), next);
    }
}
