using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Issue 13, point 9: what every answer says about itself, on a real Kestrel server.</summary>
public sealed class ResponseHeaderTests
{
    private static readonly string[] Paths =
    [
        "/n/eilmeldungen", // a form: antiforgery would have said SAMEORIGIN first
        "/account/login",
        "/admin",
        "/confirm/unknown",
    ];

    [Fact]
    public async Task No_page_may_be_framed_and_none_names_the_server_C32()
    {
        // One server for all paths: each answer is independent of the others, and a server start is the slow part.
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.NewsletterAsync();
        // The real server: TestServer adds no Server header, so it could not tell.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };

        foreach (var path in Paths)
        {
            var response = await client.GetAsync(path);
            Assert.True((int)response.StatusCode < 500, $"{path} answered {(int)response.StatusCode}");
            Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
            Assert.False(response.Headers.Contains("Server"), $"{path} names the server");
        }
    }
}
