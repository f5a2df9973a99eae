using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C46: in Production every link in a mail, the RFC 8058 one-click unsubscribe URI among them, is https;
/// a loopback host is the only exception. The refusal is seen where an operator sees it, on the real
/// process's standard error, in <see cref="CommandLineTests"/> (web app and verbs).
/// </summary>
public sealed class PublicBaseUrlTests
{
    [Theory]
    [InlineData("https://newsletter.example.test")]
    [InlineData("http://127.0.0.1:5000")]
    [InlineData("http://127.8.9.10")]
    [InlineData("http://localhost:5000")]
    [InlineData("http://[::1]:5000")]
    public async Task Production_starts_with_https_or_a_loopback_host_C46(string baseUrl)
    {
        await using var app = new AppFactory(environment: "Production", settings: new()
        {
            ["App:PublicBaseUrl"] = baseUrl,
            ["Privacy:MailProvider"] = "Beispiel Mail GmbH, Berlin", // Production names its mail provider (C40)
        });
        var response = await app.CreateClient().GetAsync("/healthz");
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("http://newsletter.example.test")]
    [InlineData("http://203.0.113.7:8080")]
    [InlineData("http://localhost.example.test")] // names localhost, is not loopback
    public void Production_refuses_an_http_PublicBaseUrl_on_any_other_host_C46(string baseUrl)
    {
        // The rule itself; what the operator then sees on standard error is CommandLineTests' (one launch).
        var production = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" };
        var options = new Common.AppOptions { PublicBaseUrl = baseUrl, DataDirectory = "data", MasterKey = Convert.ToBase64String(new byte[32]) };
        var result = new Common.AppOptionsValidator(production).Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains($"App:PublicBaseUrl must be an https URL in Production (was '{baseUrl}')", result.FailureMessage);
    }

    [Fact]
    public async Task Outside_Production_an_http_PublicBaseUrl_still_starts_C46()
    {
        await using var app = new AppFactory(settings: new() { ["App:PublicBaseUrl"] = "http://newsletter.example.test" });
        Assert.True((await app.CreateClient().GetAsync("/healthz")).IsSuccessStatusCode);
    }
}
