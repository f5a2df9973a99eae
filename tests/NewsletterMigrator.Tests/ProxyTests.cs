using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>C32 and C7 behind a reverse proxy: whose IP goes into the proof, HSTS, and the per-IP limit (C31) over real sockets.</summary>
public sealed class ProxyTests
{
    [Theory]
    [InlineData("127.0.0.1", "203.0.113.7")] // the peer is the configured proxy
    [InlineData("10.9.8.7", "127.0.0.1")]    // a proxy is configured, but this peer is not it
    [InlineData(null, "127.0.0.1")]          // no proxy configured: the header is never read
    public async Task The_ledger_records_the_forwarded_client_IP_only_from_a_configured_proxy_C7_C32(string? knownProxy, string recorded)
    {
        var settings = new Dictionary<string, string?>();
        if (knownProxy is not null) settings["App:KnownProxies:0"] = knownProxy;
        await using var app = new AppFactory(kestrel: true, settings: settings);
        app.StartServer();
        await app.NewsletterAsync();
        using var client = RealClient(app);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");

        var response = await client.SignUpAsync("reader@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var signUp = await app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        Assert.Equal(recorded, signUp.IpAddress);

        var mail = await app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        var path = new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
        await client.PostFormAsync(path, await client.GetStringAsync(path), []);
        var confirmed = await app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.Confirmed));
        Assert.Equal(recorded, confirmed.IpAddress);
    }

    [Fact]
    public async Task The_per_IP_limit_counts_the_forwarded_client_and_answers_429_C31()
    {
        await using var app = new AppFactory(kestrel: true, settings: new()
        {
            ["App:KnownProxies:0"] = "127.0.0.1",
            ["Consent:SignUpsPerIpPerHour"] = "2",
            ["Consent:SignUpMinimumDuration"] = "00:00:00",
        });
        app.StartServer();
        await app.NewsletterAsync();
        using var crowded = RealClient(app);
        crowded.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.20");
        Assert.Equal(HttpStatusCode.OK, (await crowded.SignUpAsync("a@example.test")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await crowded.SignUpAsync("b@example.test")).StatusCode);
        var refused = await crowded.SignUpAsync("c@example.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Gerade zu viele Anmeldungen", await refused.Content.ReadAsStringAsync());
        Assert.False(await app.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.Email == "c@example.test")));
        // Reading is never limited, and another client is unaffected.
        Assert.Equal(HttpStatusCode.OK, (await crowded.GetAsync("/n/eilmeldungen")).StatusCode);
        using var other = RealClient(app);
        other.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.21");
        Assert.Equal(HttpStatusCode.OK, (await other.SignUpAsync("c@example.test")).StatusCode);
    }

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:eeee:dddd:9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("::ffff:198.51.100.7", "198.51.100.7", true)]
    [InlineData("198.51.100.7", "198.51.100.8", false)]
    public void IPv6_clients_are_counted_per_64_network_C31(string a, string b, bool same) =>
        Assert.Equal(same, ClientNetwork.Key(IPAddress.Parse(a)) == ClientNetwork.Key(IPAddress.Parse(b)));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HSTS_is_sent_over_HTTPS_when_configured_C32(bool useHsts)
    {
        await using var app = new AppFactory(settings: new() { ["App:UseHsts"] = useHsts ? "true" : "false" });
        await app.NewsletterAsync();
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://news.tagblatt.example.test") });
        var response = await client.GetAsync("/n/eilmeldungen");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(useHsts, response.Headers.Contains("Strict-Transport-Security"));
        if (useHsts) Assert.StartsWith("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single());
    }

    private static HttpClient RealClient(AppFactory app) => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
    };
}
