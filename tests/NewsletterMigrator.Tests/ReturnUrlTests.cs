using System.Net;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 6: every door that redirects to a target named in the request (the language switch, the
/// sign-in page) goes only to a local path, and to a fixed page for anything else: never elsewhere, never a 500.
/// </summary>
public sealed class ReturnUrlTests
{
    /// <summary>What a probe sends (decoded values): tab and CR/LF that browsers drop or that split headers, other hosts, non-ASCII.</summary>
    private static readonly string[] HostileValues =
    [
        "/\t/evil.example",           // browsers drop the tab: //evil.example
        "/\n/evil.example",
        "/\r\nSet-Cookie: nm=1",      // header splitting
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "data:text/html,x",
        "~/admin",
        " /admin",
        "/n/küche",                   // raw non-ASCII: our own links percent-encode it
        "/x\u007f",
        "/x\0",
        "/" + new string('a', 5000),
        "",
        "evil.example",
    ];

    private static readonly string[] LocalValues =
    [
        "/",
        "/n/eilmeldungen",
        "/n/eilmeldungen/impressum?x=1&y=%C3%BC",
        "/n/k%C3%BCche",
        "/%2F%2Fevil.example",        // encoded slashes stay one path segment on this host
    ];

    public static TheoryData<string> Hostile => new(HostileValues);

    public static TheoryData<string> Local => new(LocalValues);

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Anything_but_a_plain_local_path_becomes_the_fallback(string returnUrl) =>
        Assert.Equal("/fallback", LocalRedirectTarget.OrFallback(returnUrl, "/fallback"));

    [Theory]
    [MemberData(nameof(Local))]
    public void A_local_path_is_kept(string returnUrl) =>
        Assert.Equal(returnUrl, LocalRedirectTarget.OrFallback(returnUrl, "/fallback"));

    [Fact]
    public async Task The_language_switch_returns_to_a_local_page_and_to_the_start_page_for_anything_else()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        // A real server: Kestrel, not TestServer, refuses a Location header with CR/LF or non-ASCII (the 500).
        using var client = RealClient(app);
        var answers = new List<string>();
        foreach (var returnUrl in HostileValues.Concat(LocalValues))
        {
            var response = await client.GetAsync("/language/en?returnUrl=" + Uri.EscapeDataString(returnUrl));
            var expected = LocalValues.Contains(returnUrl) ? returnUrl : "/";
            if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != expected)
                answers.Add($"{Show(returnUrl)} answered {(int)response.StatusCode} {Show(response.Headers.Location?.OriginalString ?? "")}");
            // The switch itself still works.
            if (!response.Headers.TryGetValues("Set-Cookie", out var cookies) || !cookies.Any(c => c.Contains("en")))
                answers.Add($"{Show(returnUrl)} set no language cookie");
        }
        // Values too odd for HttpClient's own escaping: sent as written.
        foreach (var raw in new[] { "/%09/evil.example", "/%0d%0aSet-Cookie:%20nm=1", "%2F%2Fevil.example", "/%E2%80%AE" })
        {
            var response = await client.GetAsync("/language/de?returnUrl=" + raw);
            if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != "/")
                answers.Add($"raw {raw} answered {(int)response.StatusCode} {Show(response.Headers.Location?.OriginalString ?? "")}");
        }
        Assert.True(answers.Count == 0, string.Join(Environment.NewLine, answers));
    }

    [Fact]
    public async Task The_sign_in_page_goes_on_to_a_local_page_and_to_the_admin_area_for_anything_else()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var answers = new List<string>();
        // Few sign-ins (a per-IP sign-in limit applies): the shapes that answered 500 or left the host.
        foreach (var (returnUrl, expected) in new[]
        {
            ("/\t/evil.example", "/admin"), ("/\r\nSet-Cookie: nm=1", "/admin"), ("//evil.example", "/admin"),
            ("/n/küche", "/admin"), ("https://evil.example/", "/admin"), ("/admin/withdrawals?x=1", "/admin/withdrawals?x=1"),
        })
        {
            using var client = RealClient(app);
            var login = await client.GetStringAsync("/account/login");
            var response = await client.PostFormAsync("/account/login?returnUrl=" + Uri.EscapeDataString(returnUrl), login,
                new() { ["Email"] = "admin@example.test", ["Password"] = "long enough password" });
            if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location?.OriginalString != expected)
                answers.Add($"{Show(returnUrl)} answered {(int)response.StatusCode} {Show(response.Headers.Location?.OriginalString ?? "")}");
        }
        Assert.True(answers.Count == 0, string.Join(Environment.NewLine, answers));
    }

    [Theory]
    [InlineData("/n/küche")]
    [InlineData("/\r\nSet-Cookie: nm=1")]
    [InlineData("//evil.example")]
    [InlineData("/n/eilmeldungen")]
    public async Task Signing_out_with_any_ReturnUrl_goes_to_the_start_page(string returnUrl)
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        using var client = RealClient(app);
        await client.SignInAsync("admin@example.test", "long enough password");
        var admin = await client.GetStringAsync("/admin");
        // The cookie handler reads ReturnUrl on the logout path by itself, whatever the page does.
        var response = await client.PostFormAsync("/account/logout?ReturnUrl=" + Uri.EscapeDataString(returnUrl), admin, []);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/admin")).StatusCode); // signed out
    }

    [Fact]
    public async Task The_sign_in_page_keeps_the_page_it_was_sent_from_through_the_form()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        using var client = RealClient(app);
        var denied = await client.GetAsync("/admin/withdrawals");
        var loginUrl = denied.Headers.Location!.PathAndQuery; // the cookie handler's /account/login?ReturnUrl=…
        var login = await client.GetStringAsync(loginUrl);
        var response = await client.PostFormAsync(loginUrl, login, new() { ["Email"] = "admin@example.test", ["Password"] = "long enough password" });
        Assert.Equal("/admin/withdrawals", response.Headers.Location?.OriginalString);
    }

    private static string Show(string value) => value.Length > 40 ? value[..40] + "…" : value.ReplaceLineEndings("⏎").Replace("\t", "⇥");

    private static HttpClient RealClient(AppFactory app) => new(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
    };
}
