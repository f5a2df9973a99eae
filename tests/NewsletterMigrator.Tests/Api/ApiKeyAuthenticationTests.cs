using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Api;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>Who may call the API: a known, current key with the operation's scope, for the newsletters it is restricted to.</summary>
public sealed class ApiKeyAuthenticationTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;
    private const string Stats = "/api/v1/newsletters/eilmeldungen/statistics";

    [Fact]
    public async Task A_call_without_a_key_is_refused_with_401_problem_and_a_bearer_challenge()
    {
        var response = await App.ApiClient(null).GetAsync(Stats);

        var problem = await response.ProblemAsync(401, "unauthorized");
        Assert.Equal("Bearer realm=\"api\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("Authorization: Bearer", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("nmk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // well-formed, not ours
    [InlineData("not-a-key")]
    [InlineData("")]
    public async Task An_unknown_key_is_refused_with_401_invalid_token(string key)
    {
        var client = App.ApiClient(null);
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + key);
        var response = await client.GetAsync(Stats);

        await response.ProblemAsync(401, "unauthorized");
        Assert.StartsWith("Bearer realm=\"api\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task A_revoked_key_stops_working_on_the_next_request()
    {
        var key = await App.ApiKeyAsync("revoked-soon");
        var client = App.ApiClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Stats)).StatusCode);

        await using (var scope = App.Services.CreateAsyncScope())
        {
            var service = scope.ServiceProvider.GetRequiredService<ApiKeyService>();
            var id = (await service.ListAsync()).Single(k => k.Name == "revoked-soon").Id;
            Assert.True(await service.RevokeAsync(id, "admin@example.test"));
        }

        var response = await client.GetAsync(Stats);
        var problem = await response.ProblemAsync(401, "unauthorized");
        Assert.Equal("The API key has been revoked.", problem.GetProperty("detail").GetString());
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task An_expired_key_is_refused()
    {
        var key = await App.ApiKeyAsync("short-lived", expiresAtUtc: fixture.Clock.GetUtcNow().UtcDateTime.AddDays(365));
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(key).GetAsync(Stats)).StatusCode);

        var expired = await App.ApiKeyAsync("expired", expiresAtUtc: fixture.Clock.GetUtcNow().UtcDateTime.AddMinutes(1));
        fixture.Clock.Advance(TimeSpan.FromMinutes(2));

        var problem = await (await App.ApiClient(expired).GetAsync(Stats)).ProblemAsync(401, "unauthorized");
        Assert.Equal("The API key has expired.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_key_without_the_operations_scope_gets_403_and_changes_nothing()
    {
        var key = await App.ApiKeyAsync("stats-only", [ApiScopes.StatsRead]);
        var client = App.ApiClient(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Stats)).StatusCode);

        var response = await client.PostJsonAsync(ApiSteps.Campaigns(), new { subject = "Nicht erlaubt", markdown = "x" });

        var problem = await response.ProblemAsync(403, "missing-scope");
        Assert.Contains("'campaigns:write'", problem.GetProperty("detail").GetString());
        Assert.Contains("error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString());
        Assert.False(await App.WithDbAsync(db => db.Campaigns.AnyAsync(c => c.Subject == "Nicht erlaubt")));
    }

    [Fact]
    public async Task A_key_restricted_to_one_newsletter_sees_the_other_as_not_existing()
    {
        var key = await App.ApiKeyAsync("sport-only", newsletters: ["sport"]);
        var client = App.ApiClient(key);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/newsletters/sport/statistics")).StatusCode);
        var other = await (await client.GetAsync(Stats)).ProblemAsync(404, "not-found");
        var missing = await (await client.GetAsync("/api/v1/newsletters/gibt-es-nicht/statistics")).ProblemAsync(404, "not-found");
        Assert.Equal(other.GetProperty("detail").GetString()!.Replace("eilmeldungen", "X"), missing.GetProperty("detail").GetString()!.Replace("gibt-es-nicht", "X"));

        var create = await client.PostJsonAsync(ApiSteps.Campaigns("eilmeldungen"), new { subject = "Fremd", markdown = "x" });
        await create.ProblemAsync(404, "not-found");
        Assert.False(await App.WithDbAsync(db => db.Campaigns.AnyAsync(c => c.Subject == "Fremd")));
    }

    [Fact]
    public async Task A_signed_in_admins_cookie_does_not_authorize_an_API_call()
    {
        var admin = await App.AdminAsync();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/api-keys")).StatusCode);

        var response = await admin.PostJsonAsync(ApiSteps.Campaigns(), new { subject = "Per Cookie", markdown = "x" });

        await response.ProblemAsync(401, "unauthorized");
        Assert.False(await App.WithDbAsync(db => db.Campaigns.AnyAsync(c => c.Subject == "Per Cookie")));
    }

    [Fact]
    public async Task Only_the_SHA_256_of_the_key_is_stored_with_a_short_prefix_for_display()
    {
        var key = await App.ApiKeyAsync("hash-check");

        Assert.Matches("^nmk_[A-Za-z0-9_-]{43}$", key);
        var row = await App.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Name == "hash-check"));
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), row.SecretHash);
        Assert.Equal(key[..12], row.Prefix);
        var everyText = string.Join("|", row.Name, row.Prefix, row.Scopes, row.CreatedBy);
        Assert.DoesNotContain(key, everyText);
        Assert.DoesNotContain(key[12..], await App.WithDbAsync(db => db.AuditEntries.Select(a => a.Details).ToListAsync()).ContinueWith(t => string.Join("|", t.Result)));
    }

    [Fact]
    public async Task Last_use_is_written_at_most_once_a_minute()
    {
        var key = await App.ApiKeyAsync("touch");
        var client = App.ApiClient(key);
        Task<DateTime?> LastUseAsync() => App.WithDbAsync(db => db.ApiKeys.Where(k => k.Name == "touch").Select(k => k.LastUsedAtUtc).SingleAsync());
        Assert.Null(await LastUseAsync());

        await client.GetAsync(Stats);
        var first = await LastUseAsync();
        Assert.NotNull(first);
        fixture.Clock.Advance(TimeSpan.FromSeconds(30));
        await client.GetAsync(Stats);
        Assert.Equal(first, await LastUseAsync());

        fixture.Clock.Advance(TimeSpan.FromSeconds(31));
        await client.GetAsync(Stats);
        Assert.True(await LastUseAsync() > first);
    }
}
