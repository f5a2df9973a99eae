using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C47: a former subscriber who signs up again and never confirms is an unconfirmed sign-up like any other
/// (C15); the earlier subscription's proof stays until its own C17 period ends.
/// </summary>
public sealed class RetentionHoleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 6, 15, 10, 0, 0, TimeSpan.Zero);
    private const string Email = "ehemalig@example.test";
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

    [Fact]
    public async Task A_former_subscriber_who_signs_up_again_and_never_confirms_is_removed_and_the_old_proof_stays_under_C17_C47()
    {
        Newsletter newsletter;
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            newsletter = await scope.ServiceProvider.GetRequiredService<Newsletters.NewsletterService>().CreateAsync(new Newsletter
            {
                Slug = "eilmeldungen", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            }.Complete(), "test");
        }
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

    private async Task<RetentionRun> RunAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionService>().RunAsync("test");
    }

    private async Task<T> DbAsync<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }
}
