using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 9: with an https App:PublicBaseUrl the sign-in, antiforgery and language cookies are Secure,
/// also when a TLS proxy hands the request on over plain http without saying so (not in App:KnownProxies),
/// and sign-in and forms keep working there. A real Kestrel server on plain http, as behind such a proxy.
/// </summary>
public sealed class SecureCookieTests
{
    private const string Password = "long enough password";

    [Theory]
    [InlineData("https://newsletter.tagblatt.example.test", true)]
    [InlineData(null, false)] // the test server's own http address
    public async Task Cookies_are_Secure_exactly_when_the_public_address_is_https(string? publicBaseUrl, bool secure)
    {
        await using var app = HttpServer(publicBaseUrl);
        await app.NewsletterAsync();
        await app.StaffAsync("admin@example.test", Password, Roles.Admin);
        var (key, _) = await app.EnableTwoFactorAsync("admin@example.test");
        var browser = new Browser(app);

        var login = await browser.GetAsync("/account/login");
        var signIn = await browser.PostFormAsync("/account/login", login, new() { ["Email"] = "admin@example.test", ["Password"] = Password });
        Assert.Equal("/account/login/code?returnUrl=%2Fadmin", signIn.Headers.Location?.OriginalString);
        var codePage = await browser.GetAsync("/account/login/code");
        var code = await browser.PostFormAsync("/account/login/code", codePage, new() { ["Code"] = Totp.Next(key), ["RememberBrowser"] = "true" });
        await browser.GetAsync("/language/en?returnUrl=/");

        // Antiforgery, the session, the second sign-in step's account cookie, the remembered browser, the language.
        foreach (var name in new[] { "nm.af", "nm.staff", "nm.2fa", "nm.2fa.remember", ".AspNetCore.Culture" })
        {
            var cookie = browser.SetCookies.FirstOrDefault(c => c.StartsWith(name + "=", StringComparison.Ordinal));
            Assert.True(cookie is not null, $"{name} was not set");
            Assert.True(secure == cookie.Contains("; secure", StringComparison.OrdinalIgnoreCase), cookie);
        }
        Assert.Equal("/admin", code.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Behind_an_undeclared_TLS_proxy_sign_in_and_forms_work_and_the_operator_is_told_once()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = HttpServer("https://newsletter.tagblatt.example.test", services => services.AddSingleton<ILoggerProvider>(logs));
        await app.NewsletterAsync();
        await app.StaffAsync("admin@example.test", Password, Roles.Admin);

        // The staff side: sign in, open a page behind the sign-in, save a form.
        var staff = new Browser(app);
        var login = await staff.GetAsync("/account/login");
        var signIn = await staff.PostFormAsync("/account/login", login, new() { ["Email"] = "admin@example.test", ["Password"] = Password });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var dashboard = await staff.GetAsync("/admin");
        Assert.Contains("Tagblatt Eilmeldungen", dashboard);
        var newsletterId = await app.WithDbAsync(db => db.Newsletters.Select(n => n.Id).SingleAsync());
        var suppress = await staff.GetAsync($"/admin/suppress/{newsletterId}");
        Assert.True((int)staff.LastStatus < 500, $"/admin/suppress answered {(int)staff.LastStatus}");

        // The reader side: a sign-up form with its antiforgery token.
        var reader = new Browser(app);
        var page = await reader.GetAsync("/n/eilmeldungen");
        var signUp = await reader.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "leserin@example.test"));
        Assert.Equal(HttpStatusCode.OK, signUp.StatusCode);
        Assert.True(await app.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.Email == "leserin@example.test")));
        // Links are still built from the public address, not from the request.
        var mail = await app.Smtp.WaitForAsync("leserin@example.test", "bestätigen");
        Assert.Contains(Html.Links(mail.HtmlBody), l => l.StartsWith("https://newsletter.tagblatt.example.test/confirm/", StringComparison.Ordinal));

        var warnings = logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("App:KnownProxies")).ToList();
        Assert.Single(warnings);
        Assert.DoesNotContain("127.0.0.1", warnings[0]); // no client address in the log (C20)
        Assert.DoesNotContain(logs.Lines, l => l.Contains("antiforgery", StringComparison.OrdinalIgnoreCase) && l.StartsWith("Error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Health_probes_over_plain_http_raise_no_warning()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = HttpServer("https://newsletter.tagblatt.example.test", services => services.AddSingleton<ILoggerProvider>(logs));
        var probe = new Browser(app);
        await probe.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, probe.LastStatus);
        Assert.DoesNotContain(logs.Lines, l => l.Contains("App:KnownProxies"));
    }

    private static AppFactory HttpServer(string? publicBaseUrl, Action<IServiceCollection>? services = null)
    {
        var settings = new Dictionary<string, string?>();
        if (publicBaseUrl is not null) settings["App:PublicBaseUrl"] = publicBaseUrl;
        var app = new AppFactory(kestrel: true, settings: settings) { TestServices = services };
        app.StartServer();
        return app;
    }

    /// <summary>
    /// A browser behind the proxy, seen from the app: it speaks https to the proxy, so it keeps and returns Secure
    /// cookies, while the app receives plain http. (.NET's CookieContainer sends no Secure cookie over http.)
    /// </summary>
    private sealed class Browser(AppFactory app)
    {
        private readonly HttpClient _client = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
        };
        private readonly Dictionary<string, string> _jar = [];

        public List<string> SetCookies { get; } = [];
        public HttpStatusCode LastStatus { get; private set; }

        public async Task<string> GetAsync(string path) =>
            await (await SendAsync(new HttpRequestMessage(HttpMethod.Get, path))).Content.ReadAsStringAsync();

        public Task<HttpResponseMessage> PostFormAsync(string path, string pageWithForm, Dictionary<string, string> fields)
        {
            fields["__RequestVerificationToken"] = Html.AntiforgeryToken(pageWithForm);
            return SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) });
        }

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
        {
            if (_jar.Count > 0) request.Headers.Add("Cookie", string.Join("; ", _jar.Select(c => $"{c.Key}={c.Value}")));
            var response = await _client.SendAsync(request);
            LastStatus = response.StatusCode;
            foreach (var cookie in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
            {
                SetCookies.Add(cookie);
                var pair = cookie.Split(';')[0].Split('=', 2);
                _jar[pair[0]] = pair[1];
            }
            return response;
        }
    }
}
