using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 4, the same class as simultaneous sign-ups: every reader link whose POST checks and then acts
/// (confirm once, unsubscribe once, one access link per interval, the DOI cap, change the address once, erase once),
/// clicked several times at once on a real Kestrel server. Each acts once, and every click gets a page, never a 500.
/// </summary>
public sealed class ReaderLinkConcurrencyTests
{
    private const string Address = "leserin@example.test";
    private const int Clicks = 4;

    [Fact]
    public async Task Clicks_at_once_on_one_confirm_link_confirm_once_C9_C29()
    {
        await using var app = Server();
        await app.NewsletterAsync();
        await app.SignUpAsync("/n/eilmeldungen", Address);
        var confirm = ReaderSteps.PathOf(await app.Smtp.WaitForAsync(Address, "bestätigen"), "/confirm/");

        var answers = await ClickAtOnceAsync(app, confirm, confirm, []);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Single(answers, a => a.Body.Contains("Anmeldung bestätigt"));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.Confirmed)));
        Assert.Equal(SubscriberStatus.Confirmed, (await app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
    }

    [Fact]
    public async Task Unsubscribes_at_once_withdraw_once_C12_C21()
    {
        await using var app = Server();
        await app.NewsletterAsync();
        await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", Address);
        var unsubscribe = "/u/" + await UnsubscribeTokenAsync(app);

        // Mail providers' one-click POSTs carry no cookie and no antiforgery token (RFC 8058).
        using var client = app.RealBrowser();
        var responses = await Task.WhenAll(Enumerable.Range(0, Clicks).Select(_ =>
            client.PostAsync(unsubscribe, new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.Withdrawn)));
        Assert.Equal(SubscriberStatus.Unsubscribed, (await app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
    }

    [Fact]
    public async Task Requests_for_an_access_link_at_once_queue_one_mail_C33()
    {
        await using var app = Server();
        await app.NewsletterAsync();
        await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", Address);
        var manage = "/manage/" + await UnsubscribeTokenAsync(app);

        var answers = await ClickAtOnceAsync(app, manage, manage + "?handler=Access", []);

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(1, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.AccessLink)));
    }

    [Fact]
    public async Task Presses_at_once_of_send_a_new_link_queue_one_DOI_mail_C42()
    {
        var clock = new SettableClock();
        await using var app = Server(new() { ["Consent:ConfirmLinkLifetime"] = "01:00:00", ["Consent:DoiResendInterval"] = "00:00:00" }, clock);
        await app.NewsletterAsync();
        await app.SignUpAsync("/n/eilmeldungen", Address);
        var confirm = ReaderSteps.PathOf(await app.Smtp.WaitForAsync(Address, "bestätigen"), "/confirm/");
        clock.Advance(TimeSpan.FromMinutes(61)); // the link has expired

        var answers = await ClickAtOnceAsync(app, confirm, confirm + "?handler=Resend", []);

        // A press that comes after the new link was issued finds the old link replaced: "invalid link", as a second
        // press one after the other always did.
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"A press answered {(int)a.Status}."));
        Assert.Contains(answers, a => a.Body.Contains("ein neuer Bestätigungslink unterwegs"));
        Assert.Equal(2, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.DoiQueued)));
    }

    [Fact]
    public async Task Address_change_requests_at_once_stay_within_the_daily_cap_and_the_change_happens_once_C14_C42()
    {
        await using var app = Server(new() { ["Consent:DoiMailsPerAddressPerDay"] = "1" });
        await app.NewsletterAsync();
        var access = await AccessPathAsync(app);

        var requests = await ClickAtOnceAsync(app, access, access + "?handler=Change", new() { ["newEmail"] = "neu@example.test" });
        Assert.All(requests, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.AddressChangeRequested)));

        var change = ReaderSteps.PathOf(await app.Smtp.WaitForAsync("neu@example.test", "neue Adresse"), "/manage/change/");
        var confirms = await ClickAtOnceAsync(app, change, change, []);
        Assert.All(confirms, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.AddressChanged)));
        Assert.Equal("neu@example.test", (await app.WithDbAsync(db => db.Subscribers.SingleAsync())).Email);
    }

    [Fact]
    public async Task Erasures_at_once_erase_once_C18()
    {
        await using var app = Server();
        await app.NewsletterAsync();
        var access = await AccessPathAsync(app);

        var answers = await ClickAtOnceAsync(app, access, access + "?handler=EraseConfirmed", []);

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"An erasure answered {(int)a.Status}."));
        Assert.Contains(answers, a => a.Body.Contains("Ihre Daten wurden gelöscht"));
        Assert.False(await app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.Equal(1, await app.WithDbAsync(db => db.ErasedSubscribers.CountAsync()));
        Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.Erased)));
    }

    private static AppFactory Server(Dictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        settings ??= [];
        settings["Consent:SignUpMinimumDuration"] = "00:00:00.050";
        var app = new AppFactory(kestrel: true, settings: settings)
        {
            TestServices = clock is null ? null : services => services.AddSingleton(clock),
        };
        app.StartServer();
        return app;
    }

    /// <summary>Each reader's browser opens the page, then all of them press the button at once.</summary>
    private static async Task<(HttpStatusCode Status, string Body)[]> ClickAtOnceAsync(AppFactory app, string page, string post, Dictionary<string, string> fields)
    {
        var browsers = Enumerable.Range(0, Clicks).Select(_ => app.RealBrowser()).ToList();
        var pages = await Task.WhenAll(browsers.Select(b => b.GetStringAsync(page)));
        var responses = await Task.WhenAll(browsers.Select((b, i) => b.PostFormAsync(post, pages[i], new Dictionary<string, string>(fields))));
        var answers = await Task.WhenAll(responses.Select(async r => (r.StatusCode, await r.Content.ReadAsStringAsync())));
        foreach (var browser in browsers) browser.Dispose();
        return answers;
    }

    private static async Task<string> AccessPathAsync(AppFactory app)
    {
        var reader = await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", Address);
        var manage = "/manage/" + await UnsubscribeTokenAsync(app);
        await reader.PostFormAsync(manage + "?handler=Access", await reader.GetStringAsync(manage), []);
        return ReaderSteps.PathOf(await app.Smtp.WaitForAsync(Address, "Link zu Ihren Daten"), "/manage/access/");
    }

    private static async Task<string> UnsubscribeTokenAsync(AppFactory app)
    {
        var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync());
        return app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
    }

}
