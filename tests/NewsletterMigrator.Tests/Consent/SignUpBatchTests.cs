using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 17: the sign-up writer applies the rules of a whole batch in memory and saves once. Sign-ups of one address
/// in the same batch must still see each other, as if they had been written one after the other: one subscriber row,
/// the per-address limit (C31) counting the batch's own sign-ups, and one DOI mail within the resend interval (C30).
/// </summary>
public sealed class SignUpBatchTests
{
    [Fact]
    public async Task Three_sign_ups_of_one_address_in_one_batch_store_one_subscriber_two_consents_and_one_DOI_mail_and_refuse_the_third_C30_C31()
    {
        await using var app = new AppFactory(settings: new()
        {
            ["Consent:SignUpsPerAddressPerHour"] = "2",
            ["Consent:SignUpMinimumDuration"] = "00:00:00.050",
        });
        var newsletter = await app.NewsletterAsync();
        await using var scope = app.Services.CreateAsyncScope();
        var text = await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ForReaderAsync(newsletter, "de");
        var signUps = scope.ServiceProvider.GetRequiredService<SignUpService>();
        SignUpRequest Request(string email) => new(newsletter, text!, email, "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true };

        // Hold SQLite's write lock, so the writer waits with a first sign-up while the three of one address queue up
        // behind it: they form the next batch together.
        var blocker = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var hold = await blocker.Database.BeginTransactionAsync();
        var first = signUps.SignUpAsync(Request("other@example.test"));
        await Task.Delay(300);
        var same = new[] { signUps.SignUpAsync(Request("reader@example.test")), signUps.SignUpAsync(Request("Reader@Example.test")), signUps.SignUpAsync(Request("reader@example.test")) };
        await Task.Delay(100);
        await hold.RollbackAsync();

        Assert.Equal(SignUpOutcome.Accepted, await first);
        Assert.Equal([SignUpOutcome.Accepted, SignUpOutcome.Accepted, SignUpOutcome.TooManyForAddress], await Task.WhenAll(same));
        var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "reader@example.test"));
        Assert.Equal(2, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id && e.Kind == ConsentEventKind.SignUp)));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id && e.Kind == ConsentEventKind.DoiQueued)));
        await app.OutboxIdleAsync();
        Assert.Equal(1, app.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address.Equals("reader@example.test", StringComparison.OrdinalIgnoreCase))));
    }
}
