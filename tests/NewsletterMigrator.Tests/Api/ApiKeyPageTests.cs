using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>Admin → API keys: create (the key shown once), list, revoke; admins only.</summary>
public sealed partial class ApiKeyPageTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;

    [GeneratedRegex("value=\"(nmk_[A-Za-z0-9_-]{43})\"")]
    private static partial Regex SecretPattern();

    [Fact]
    public async Task An_admin_creates_a_key_sees_it_once_and_revokes_it_and_the_API_refuses_it_then()
    {
        var admin = await App.AdminAsync();
        var page = await admin.GetStringAsync("/admin/api-keys");

        var created = await admin.PostFormAsync("/admin/api-keys?handler=Create", page, new()
        {
            ["Name"] = "CMS Redaktion", ["Scopes"] = "stats:read", ["NewsletterIds"] = fixture.Sport.Id.ToString(), ["Expires"] = "2099-12-31",
        });

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains("no-store", created.Headers.CacheControl?.ToString());
        var html = await created.Content.ReadAsStringAsync();
        var key = SecretPattern().Matches(html).Select(m => m.Groups[1].Value).Single();
        var row = WebUtility.HtmlDecode(Regex.Match(html, "<tr id=\"api-key-\\d+\">.*?</tr>", RegexOptions.Singleline).Value);
        Assert.Contains("CMS Redaktion", row);
        Assert.Contains(key[..12], row);
        Assert.Contains("stats:read", row);
        Assert.Contains(fixture.Sport.Name, row);
        Assert.Contains("31.12.2099", row);
        Assert.DoesNotContain(key, await admin.GetStringAsync("/admin/api-keys")); // shown once only
        Assert.Equal(HttpStatusCode.OK, (await App.ApiClient(key).GetAsync("/api/v1/newsletters/sport/statistics")).StatusCode);

        var list = await admin.GetStringAsync("/admin/api-keys");
        var id = await App.WithDbAsync(db => db.ApiKeys.Where(k => k.Name == "CMS Redaktion").Select(k => k.Id).SingleAsync());
        var revoked = await admin.PostFormAsync($"/admin/api-keys?handler=Revoke&id={id}", list, []);
        Assert.Equal(HttpStatusCode.Redirect, revoked.StatusCode);
        Assert.Contains("widerrufen", await admin.GetStringAsync("/admin/api-keys"));
        await (await App.ApiClient(key).GetAsync("/api/v1/newsletters/sport/statistics")).ProblemAsync(401, "unauthorized");
        Assert.True(await App.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == "admin@example.test" && a.Details == "revoked key CMS Redaktion")));
    }

    [Fact]
    public async Task A_form_without_a_scope_or_with_a_taken_name_is_refused_with_a_message_and_creates_nothing()
    {
        var a = await StaffClientAsync("admin-form@example.test", Roles.Admin);
        var page = await a.GetStringAsync("/admin/api-keys");
        var before = await App.WithDbAsync(db => db.ApiKeys.CountAsync());

        var noScope = await a.PostFormAsync("/admin/api-keys?handler=Create", page, new() { ["Name"] = "Ohne Recht" });
        Assert.Equal(HttpStatusCode.BadRequest, noScope.StatusCode);
        Assert.Contains("Bitte mindestens eine Berechtigung ankreuzen.", await noScope.Content.ReadAsStringAsync());

        await App.ApiKeyAsync("Vergeben");
        var taken = await a.PostFormAsync("/admin/api-keys?handler=Create", page, new() { ["Name"] = "Vergeben", ["Scopes"] = "stats:read" });
        Assert.Equal(HttpStatusCode.BadRequest, taken.StatusCode);
        Assert.Contains("Es gibt schon einen Schlüssel namens „Vergeben“", WebUtility.HtmlDecode(await taken.Content.ReadAsStringAsync()));
        Assert.Equal(before + 1, await App.WithDbAsync(db => db.ApiKeys.CountAsync()));
    }

    [Fact]
    public async Task An_editor_cannot_open_the_API_keys()
    {
        var editor = await StaffClientAsync("redakteur-keys@example.test", Roles.Editor);

        var response = await editor.GetAsync("/admin/api-keys");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("/account/denied", response.Headers.Location!.OriginalString);
    }

    private async Task<HttpClient> StaffClientAsync(string email, string role)
    {
        await App.StaffAsync(email, "long enough password", role);
        var client = App.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(email, "long enough password")).StatusCode);
        return client;
    }
}
