using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;
using NewsletterMigrator.Tests.Data;

namespace NewsletterMigrator.Tests;

/// <summary>Behind a load balancer the per-IP limit counts the sign-ups every instance saw, not each instance's own (C31, issue 18).</summary>
public sealed class SharedSignUpLimitTests
{
    [PostgresFact]
    public async Task Sign_ups_from_one_network_spread_over_two_instances_share_one_limit_C31()
    {
        var settings = new Dictionary<string, string?> { ["Consent:SignUpsPerIpPerHour"] = "3", ["Consent:SignUpMinimumDuration"] = "00:00:00" };
        await using var first = new AppFactory(settings: settings, provider: DatabaseProvider.Postgres);
        await using var second = new AppFactory(settings: settings, reuse: first, ownDataFolder: true);
        await first.NewsletterAsync();
        HttpClient[] instances = [first.ReaderClient(), second.ReaderClient()];

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++) answers.Add((await instances[i % 2].SignUpAsync($"leser{i}@example.test")).StatusCode);

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], answers);
        Assert.Equal(3, await first.WithDbAsync(db => db.Subscribers.CountAsync()));
        // No address is stored: the counter is named by a keyed hash of the client network.
        var key = await first.WithDbAsync(db => db.RateWindows.Select(w => w.Key).SingleAsync());
        Assert.StartsWith("sign-up:", key);
        Assert.DoesNotContain("127.0.0.1", key);
    }
}
