using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15, point 3: passwords are checked against the list of common passwords shipped with the app on every
/// form that sets one; a signed-in member changes the password and signs out everywhere.
/// </summary>
public sealed class PasswordTests : IAsyncLifetime
{
    private const string Admin = "admin@example.test";
    private const string Password = "long enough password";
    private const string NewPassword = "a new and long enough password";

    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private HttpClient Browser(string? language = null)
    {
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (language is not null) client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        return client;
    }

    [Fact]
    public void The_shipped_list_holds_tens_of_thousands_of_passwords()
    {
        Assert.InRange(CommonPasswordValidator.Count, 40_000, 100_000);
    }

    [Theory]
    [InlineData("de", "qwertyuiop123", "steht auf einer Liste oft benutzter")]
    [InlineData("en", "QWERTYUIOP123", "is on a list of commonly used")] // any case, and with digits appended
    [InlineData("de", "1qaz2wsx3edc", "steht auf einer Liste oft benutzter")]
    [InlineData("en", "password1234!", "is on a list of commonly used")]
    [InlineData("de", "redaktion.tagblatt", "nicht Ihre E-Mail-Adresse")]
    [InlineData("en", "redaktion.tagblatt2024", "must not be your email address")]
    public async Task The_first_run_page_refuses_a_common_password_or_the_own_address_and_creates_nothing(string language, string password, string message)
    {
        var browser = Browser(language);
        var page = await browser.GetStringAsync("/setup");
        var response = await browser.PostFormAsync("/setup", page, new()
        {
            ["Code"] = _app.Service<SetupCode>().Value,
            ["Email"] = "redaktion.tagblatt@example.test",
            ["Password"] = password,
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Users.AnyAsync()));
    }

    /// <summary>
    /// A common password dressed up: digits and symbols at either end, spaces or an invisible zero-width space inside,
    /// full-width letters (NFKC makes them plain), or one character repeated.
    /// </summary>
    [Theory]
    [InlineData("de", "123456password", "steht auf einer Liste oft benutzter")]
    [InlineData("en", "!!password1234", "is on a list of commonly used")]
    [InlineData("de", "pass word 1234", "steht auf einer Liste oft benutzter")]
    [InlineData("en", "password\u200B1234", "is on a list of commonly used")]
    [InlineData("de", "Ｐａｓｓｗｏｒｄ１２３４", "steht auf einer Liste oft benutzter")]
    [InlineData("de", "aaaaaaaaaaaa", "nur aus einem einzigen, wiederholten Zeichen")]
    [InlineData("en", "\u00A0Z Z Z Z Z Z Z Z Z Z Z Z", "a single character repeated")]
    public async Task A_common_password_in_disguise_is_refused(string language, string password, string message)
    {
        var response = await SetUpAsync(language, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Users.AnyAsync()));
    }

    /// <summary>Length, not composition: no lower-case rule, so caseless scripts and capitals are fine.</summary>
    [Theory]
    [InlineData("Тихий вечер над Волгой")]
    [InlineData("春眠不覚暁処処聞啼鳥夜来")]
    [InlineData("HERINGSDORF ABENDBLATT SIEBEN")]
    public async Task A_long_passphrase_in_any_script_or_in_capitals_is_taken(string password)
    {
        Assert.Equal(HttpStatusCode.Redirect, (await SetUpAsync("de", password)).StatusCode);
        Assert.True(await _app.WithDbAsync(db => db.Users.AnyAsync()));
    }

    private async Task<HttpResponseMessage> SetUpAsync(string language, string password)
    {
        var browser = Browser(language);
        var page = await browser.GetStringAsync("/setup");
        return await browser.PostFormAsync("/setup", page, new()
        {
            ["Code"] = _app.Service<SetupCode>().Value, ["Email"] = "redaktion.tagblatt@example.test", ["Password"] = password,
        });
    }

    [Fact]
    public async Task The_first_run_page_takes_an_uncommon_long_password()
    {
        var browser = Browser();
        var page = await browser.GetStringAsync("/setup");
        var response = await browser.PostFormAsync("/setup", page, new()
        {
            ["Code"] = _app.Service<SetupCode>().Value, ["Email"] = Admin, ["Password"] = "Heringsdorf Abendblatt 7",
        });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
    }

    [Fact]
    public async Task A_signed_in_member_changes_the_password_other_browsers_are_signed_out_this_one_stays()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var mine = Browser();
        await mine.SignInAsync(Admin, Password);
        var other = Browser();
        await other.SignInAsync(Admin, Password);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/admin")).StatusCode);
        var page = await mine.GetStringAsync("/account/password");

        var wrongCurrent = await Change(mine, page, "not my password", NewPassword, NewPassword);
        Assert.Contains("Das aktuelle Passwort stimmt nicht", wrongCurrent);
        Assert.Equal(1, (await _app.StaffUserAsync(Admin)).AccessFailedCount); // counts like a wrong sign-in
        Assert.Contains("stimmen nicht überein", await Change(mine, page, Password, NewPassword, NewPassword + "x"));
        Assert.Contains("steht auf einer Liste oft benutzter", await Change(mine, page, Password, "letmein12345", "letmein12345"));
        Assert.Contains("mindestens 12 Zeichen", await Change(mine, page, Password, "kurz", "kurz"));

        var changed = await mine.PostFormAsync("/account/password", page, Form(Password, NewPassword, NewPassword));
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mine.GetAsync("/admin")).StatusCode);
        Assert.Contains("/account/login", (await other.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await Browser().SignInAsync(Admin, Password)).StatusCode); // the old one is refused
        Assert.Equal(HttpStatusCode.Redirect, (await Browser().SignInAsync(Admin, NewPassword)).StatusCode);
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == Admin && a.Details == "password changed")));
    }

    [Fact]
    public async Task The_password_page_speaks_English_too()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var english = Browser("en");
        await english.SignInAsync(Admin, Password);
        var page = await english.GetStringAsync("/account/password");
        Assert.Contains("Change password", page);
        Assert.Contains("is on a list of commonly used", await Change(english, page, Password, "iloveyou1234", "iloveyou1234"));
    }

    [Fact]
    public async Task Sign_out_everywhere_ends_every_session_and_forgets_remembered_browsers()
    {
        await _app.StaffAsync(Admin, Password, Roles.Admin);
        var (key, _) = await _app.EnableTwoFactorAsync(Admin);
        var laptop = Browser();
        await laptop.SignInAsync(Admin, Password);
        await laptop.EnterCodeAsync(Totp.Next(key), rememberBrowser: true);
        var office = Browser();
        await office.SignInAsync(Admin, Password);
        await office.EnterCodeAsync(Totp.Next(key));
        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/admin")).StatusCode);

        var page = await office.GetStringAsync("/account/sign-out-everywhere");
        Assert.Equal(HttpStatusCode.Redirect, (await office.PostFormAsync("/account/sign-out-everywhere", page, [])).StatusCode);

        Assert.Contains("/account/login", (await office.GetAsync("/admin")).Headers.Location?.OriginalString);
        Assert.Contains("/account/login", (await laptop.GetAsync("/admin")).Headers.Location?.OriginalString);
        // The laptop was remembered for the code; after signing out everywhere it is asked again.
        Assert.StartsWith("/account/login/code", (await laptop.SignInAsync(Admin, Password)).Headers.Location?.OriginalString);
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.UserName == Admin && a.Details == "signed out everywhere")));
    }

    private static async Task<string> Change(HttpClient browser, string page, string current, string next, string confirm) =>
        await (await browser.PostFormAsync("/account/password", page, Form(current, next, confirm))).Content.ReadAsStringAsync();

    private static Dictionary<string, string> Form(string current, string next, string confirm) =>
        new() { ["CurrentPassword"] = current, ["NewPassword"] = next, ["ConfirmPassword"] = confirm };
}
