using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Api;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>Withdrawals and suppressions the portal records, audited without the full address (C12, C18, C20).</summary>
public sealed class SubscriberApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;

    private Task<Subscriber> SubscriberAsync(string email, int newsletterId) =>
        App.WithDbAsync(db => db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == email && s.NewsletterId == newsletterId));

    [Fact]
    public async Task A_withdrawal_ends_the_subscription_to_that_newsletter_only_with_channel_api_on_the_ledger_C12()
    {
        await App.ConfirmedReadersAsync(fixture.News, "geht@example.test");
        await using (var scope = App.Services.CreateAsyncScope())
        {
            // The same reader has signed up for the other newsletter too (not yet confirmed).
            var text = (await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ForReaderAsync(fixture.Sport, "de"))!;
            await scope.ServiceProvider.GetRequiredService<SignUpService>().SignUpAsync(
                new SignUpRequest(fixture.Sport, text, "geht@example.test", "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true });
        }
        var client = App.ApiClient(await App.ApiKeyAsync("abmelder", [ApiScopes.SubscribersWrite]));

        var response = await client.PostJsonAsync("/api/v1/newsletters/eilmeldungen/withdrawals", new { email = "Geht@Example.test" });

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var withdrawn = await SubscriberAsync("geht@example.test", fixture.News.Id);
        Assert.Equal(SubscriberStatus.Unsubscribed, withdrawn.Status);
        Assert.Equal(SubscriberStatus.Pending, (await SubscriberAsync("geht@example.test", fixture.Sport.Id)).Status);
        Assert.Equal("api", await App.WithDbAsync(db => db.ConsentEvents.Where(e => e.SubscriberId == withdrawn.Id && e.Kind == ConsentEventKind.Withdrawn)
            .Select(e => e.Channel).SingleAsync()));
        var audit = await App.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.UserName == "api:abmelder"));
        Assert.Equal("withdrawal", audit.Action);
        Assert.Contains("G***@example.test", audit.Details);
        Assert.DoesNotContain("geht@", audit.Details, StringComparison.OrdinalIgnoreCase);

        // An address that is not subscribed gets the same answer.
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostJsonAsync("/api/v1/newsletters/eilmeldungen/withdrawals", new { email = "nie@example.test" })).StatusCode);
        await (await client.PostJsonAsync("/api/v1/newsletters/eilmeldungen/withdrawals", new { email = "kein" })).ProblemAsync(400, "validation");
    }

    [Fact]
    public async Task A_suppression_lists_the_address_and_ends_its_subscriptions_C18()
    {
        await App.ConfirmedReadersAsync(fixture.News, "sperre@example.test");
        var client = App.ApiClient(await App.ApiKeyAsync("sperrer", [ApiScopes.SubscribersWrite]));
        var before = await App.WithDbAsync(db => db.Suppressions.CountAsync());

        var response = await client.PostJsonAsync("/api/v1/suppressions", new { email = "sperre@example.test" });

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(before + 1, await App.WithDbAsync(db => db.Suppressions.CountAsync()));
        Assert.Equal(SubscriberStatus.Unsubscribed, (await SubscriberAsync("sperre@example.test", fixture.News.Id)).Status);
        var audit = await App.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.UserName == "api:sperrer" && a.Action == "suppress"));
        Assert.Equal("address s***@example.test", audit.Details);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostJsonAsync("/api/v1/suppressions", new { email = "sperre@example.test" })).StatusCode);
        Assert.Equal(before + 1, await App.WithDbAsync(db => db.Suppressions.CountAsync()));
    }

    [Fact]
    public async Task A_key_restricted_to_newsletters_cannot_change_the_installation_wide_suppression_list()
    {
        var client = App.ApiClient(await App.ApiKeyAsync("sport-sperrer", [ApiScopes.SubscribersWrite], ["sport"]));
        var before = await App.WithDbAsync(db => db.Suppressions.CountAsync());

        var problem = await (await client.PostJsonAsync("/api/v1/suppressions", new { email = "fremd@example.test" })).ProblemAsync(403, "missing-scope");

        Assert.Contains("installation-wide", problem.GetProperty("detail").GetString());
        Assert.Equal(before, await App.WithDbAsync(db => db.Suppressions.CountAsync()));
    }
}
