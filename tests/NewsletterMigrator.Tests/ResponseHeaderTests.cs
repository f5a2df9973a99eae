using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Issue 13, point 9: what every answer says about itself, on a real Kestrel server.</summary>
public sealed class ResponseHeaderTests
{
    [Theory]
    [InlineData("/n/eilmeldungen")] // a form: antiforgery would have said SAMEORIGIN first
    [InlineData("/account/login")]
    [InlineData("/admin")]
    [InlineData("/confirm/unknown")]
    public async Task No_page_may_be_framed_and_none_names_the_server_C32(string path)
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.NewsletterAsync();
        // The real server: TestServer adds no Server header, so it could not tell.
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };

        var response = await client.GetAsync(path);
        Assert.True((int)response.StatusCode < 500, $"{path} answered {(int)response.StatusCode}");
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.False(response.Headers.Contains("Server"));
    }
}
