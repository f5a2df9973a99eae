using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using NewsletterMigrator.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 8: staff sign-in and the first-run page tell nobody whether an account exists, and
/// guessing is limited per client IP besides the per-account lockout.
/// </summary>
public sealed partial class SignInTests : IAsyncLifetime
{
    private const string Staff = "admin@example.test";
    private const string Unknown = "nobody@example.test";
    private const string Password = "long enough password";

    private readonly PasswordChecks _checks = new();
    private readonly AppFactory _app;

    public SignInTests() => _app = App(new() { ["SignIn:AttemptsPerIp"] = "1000" });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_unknown_address_gets_the_same_answer_as_a_wrong_password_also_once_the_account_is_locked()
    {
        await _app.StaffAsync(Staff, Password, Roles.Admin);
        for (var attempt = 1; attempt <= 7; attempt++)
        {
            var real = await AnswerAsync(_app, Staff, "wrong password " + attempt);
            Assert.Contains("Anmeldung fehlgeschlagen", real);
            Assert.Equal(real, await AnswerAsync(_app, Unknown, "wrong password " + attempt));
        }
        Assert.True(await IsLockedOutAsync(Staff), "five failures lock the account");
        // Even the right password of a locked account is answered like an unknown address.
        Assert.Equal(await AnswerAsync(_app, Unknown, Password), await AnswerAsync(_app, Staff, Password));
    }

    [Fact]
    public async Task An_unknown_address_or_a_locked_account_still_costs_one_full_password_check()
    {
        await _app.StaffAsync(Staff, Password, Roles.Admin);
        await AnswerAsync(_app, Staff, "wrong password");
        await AnswerAsync(_app, Unknown, "wrong password");
        await AnswerAsync(_app, "someone.else@example.test", "wrong password");
        var (real, unknown, otherUnknown) = (_checks.All[0], _checks.All[1], _checks.All[2]);
        Assert.Equal(3, _checks.All.Count);
        Assert.Equal(real.Iterations, unknown.Iterations);
        Assert.True(real.Iterations >= 100_000, $"PBKDF2 with {real.Iterations} iterations");
        Assert.NotEqual(real.Hash, unknown.Hash);
        Assert.Equal(unknown.Hash, otherUnknown.Hash); // the dummy hash is made once, not per request

        for (var attempt = 0; attempt < 5; attempt++) await AnswerAsync(_app, Staff, "wrong again");
        Assert.True(await IsLockedOutAsync(Staff));
        var before = _checks.All.Count;
        await AnswerAsync(_app, Staff, Password);
        Assert.Equal(before + 1, _checks.All.Count);
        Assert.Equal(unknown.Hash, _checks.All[^1].Hash);
    }

    [Fact]
    public async Task After_the_limit_of_attempts_per_IP_sign_in_answers_429_without_checking_the_password_until_the_window_ends()
    {
        var window = TimeSpan.FromHours(1); // no attempt of this test can outlast it, however busy the machine
        await using var app = App(new()
        {
            ["App:KnownProxies:0"] = "127.0.0.1",
            ["SignIn:AttemptsPerIp"] = "3",
            ["SignIn:AttemptWindow"] = window.ToString(),
        }, kestrel: true);
        app.StartServer();
        await app.StaffAsync(Staff, Password, Roles.Admin);
        using var crowded = RealClient(app, "198.51.100.30");
        for (var attempt = 0; attempt < 3; attempt++)
            Assert.Equal(HttpStatusCode.OK, (await crowded.SignInAsync(Unknown, "wrong password")).StatusCode);
        var checks = _checks.All.Count;

        var refused = await crowded.SignInAsync(Staff, Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Zu viele Anmeldeversuche", await refused.Content.ReadAsStringAsync());
        Assert.Equal(window, refused.Headers.RetryAfter?.Delta);
        Assert.Equal(checks, _checks.All.Count);
        Assert.Equal(HttpStatusCode.Redirect, (await crowded.GetAsync("/admin")).StatusCode); // not signed in
        using var english = RealClient(app, "198.51.100.30", "en");
        var refusedInEnglish = await english.SignInAsync(Staff, Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedInEnglish.StatusCode);
        Assert.Contains("Too many sign-in attempts", await refusedInEnglish.Content.ReadAsStringAsync());

        // Another client behind the proxy is not affected.
        using var other = RealClient(app, "198.51.100.31");
        Assert.Equal(HttpStatusCode.Redirect, (await other.SignInAsync(Staff, Password)).StatusCode);

        // That the window's end lets the client in again is not tested: the framework's FixedWindowRateLimiter keeps
        // its own clock (Stopwatch, no TimeProvider), so only real time could show it, and a short real window makes
        // the refusals above depend on finishing them within it. The reset is the framework's behaviour, not ours.
    }

    [Fact]
    public async Task The_setup_code_cannot_be_guessed_faster_than_the_sign_in_limit_allows()
    {
        await using var app = App(new() { ["SignIn:AttemptsPerIp"] = "3" });
        var client = app.ReaderClient();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var wrong = await SetupAsync(client, "WRONGCODE12" + attempt);
            Assert.Contains("Einrichtungscode stimmt nicht", await wrong.Content.ReadAsStringAsync());
        }
        var refused = await SetupAsync(client, app.Service<SetupCode>().Value);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Zu viele Anmeldeversuche", await refused.Content.ReadAsStringAsync());
        Assert.False(await app.WithDbAsync(db => db.Users.AnyAsync()));
    }

    [Theory]
    [InlineData("SignIn:AttemptsPerIp", "0")]
    [InlineData("SignIn:AttemptWindow", "00:00:00")]
    [InlineData("SignIn:LockoutAfterFailures", "0")]
    [InlineData("SignIn:LockoutDuration", "-00:01:00")]
    public void A_limit_that_makes_no_sense_stops_start_up_with_the_key_named(string key, string value)
    {
        // Program.cs prints the validator's failures and exits; the process-level check is CommandLineTests' pattern.
        using (var app = new AppFactory(settings: new() { [key] = value })) Assert.ThrowsAny<Exception>(() => app.CreateClient());
        var options = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build()
            .GetSection(StaffSignInOptions.Section).Get<StaffSignInOptions>()!;
        var result = new StaffSignInOptionsValidator().Validate(null, options);
        Assert.Contains(key, result.FailureMessage);
        Assert.True(new StaffSignInOptionsValidator().Validate(null, new StaffSignInOptions()).Succeeded);
    }

    private AppFactory App(Dictionary<string, string?> settings, bool kestrel = false) => new(kestrel, settings)
    {
        // The real hasher with its real options, only observed (see CountingPasswordHasher).
        TestServices = services => services.AddScoped<IPasswordHasher<StaffUser>>(sp =>
            new CountingPasswordHasher(new PasswordHasher<StaffUser>(sp.GetService<IOptions<PasswordHasherOptions>>()), _checks)),
    };

    /// <summary>What a browser gets back for a sign-in, without the parts that differ on every request.</summary>
    private static async Task<string> AnswerAsync(AppFactory app, string email, string password)
    {
        var response = await app.ReaderClient().SignInAsync(email, password);
        var headers = response.Headers.Concat(response.Content.Headers).Where(h => h.Key != "Date")
            .OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}");
        var body = TokenValue().Replace(await response.Content.ReadAsStringAsync(), "value=\"(token)\"").Replace(email, "(address)");
        return $"{(int)response.StatusCode}\n{string.Join("\n", headers)}\n\n{body}";
    }

    private async Task<bool> IsLockedOutAsync(string email)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        return await users.IsLockedOutAsync((await users.FindByEmailAsync(email))!);
    }

    private static async Task<HttpResponseMessage> SetupAsync(HttpClient client, string code) =>
        await client.PostFormAsync("/setup", await client.GetStringAsync("/setup"), new() { ["Code"] = code, ["Email"] = Staff, ["Password"] = Password });

    private static HttpClient RealClient(AppFactory app, string forwardedFor, string? language = null)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
        };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        if (language is not null) client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        return client;
    }

    [GeneratedRegex("(?<=name=\"__RequestVerificationToken\" type=\"hidden\" )value=\"[^\"]+\"")]
    private static partial Regex TokenValue();
}
