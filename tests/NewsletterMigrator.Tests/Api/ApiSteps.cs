using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Api;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>Keys made through the app's own service, and a CMS's HTTP client that sends one.</summary>
public static class ApiSteps
{
    public static readonly string[] AllScopes = [.. ApiScopes.All];

    public static async Task<string> ApiKeyAsync(this AppFactory app, string name = "cms", string[]? scopes = null, string[]? newsletters = null,
        DateTime? expiresAtUtc = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var created = await scope.ServiceProvider.GetRequiredService<ApiKeyService>()
            .CreateAsync(name, scopes ?? AllScopes, newsletters ?? [], expiresAtUtc, "test");
        return created.Secret ?? throw new InvalidOperationException($"Key refused: {created.Refusal} {created.About}");
    }

    /// <summary>A client like a CMS's: no cookies, the key as bearer token (or none).</summary>
    public static HttpClient ApiClient(this AppFactory app, string? key)
    {
        var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) => client.PostAsJsonAsync(url, body);

    public static Task<HttpResponseMessage> PostRawAsync(this HttpClient client, string url, string json) =>
        client.PostAsync(url, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>The answer's JSON; fails the test with the body when it is not JSON.</summary>
    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try { return JsonDocument.Parse(text).RootElement.Clone(); }
        catch (JsonException) { throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: not JSON: {text}"); }
    }

    /// <summary>Asserts an RFC 9457 problem document with this status and type; returns it.</summary>
    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, int status, string code)
    {
        var body = await response.JsonAsync();
        Assert.True((int)response.StatusCode == status, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ApiProblems.TypePrefix + code, body.GetProperty("type").GetString());
        Assert.Equal(status, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("title").GetString()));
        Assert.DoesNotContain("   at ", body.ToString()); // never a stack trace
        return body;
    }

    public static string Campaigns(string slug = "eilmeldungen") => $"/api/v1/newsletters/{slug}/campaigns";
}
