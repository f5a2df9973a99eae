using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C42: DOI mails to one address are capped per day (default 3) across sign-up, "send a new link" and the
/// DOI to a new address; past the cap the reader's answer is the same as when a mail went out (C30).
/// </summary>
public sealed partial class DoiCapTests : IAsyncLifetime
{
    private readonly SettableClock _clock = new();
    private readonly AppFactory _app;

    public DoiCapTests()
    {
        _app = new AppFactory(settings: new()
        {
            ["Consent:ConfirmLinkLifetime"] = "01:00:00",
            ["Consent:SignUpMinimumDuration"] = "00:00:00.050",
        }) { TestServices = s => s.AddSingleton<TimeProvider>(_clock) };
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Four_sign_ups_in_a_day_bring_three_DOI_mails_the_same_answer_each_time_and_a_new_day_allows_again_C42()
    {
        await _app.NewsletterAsync();
        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            if (i > 0) _clock.Advance(TimeSpan.FromHours(4)); // well past the resend interval and the hourly sign-up limit
            var response = await _app.ReaderClient().SignUpAsync("reader@example.test");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answers.Add(Strip(await response.Content.ReadAsStringAsync()));
        }
        await _app.OutboxIdleAsync();

        Assert.Equal(3, DoiMailsAtTheServer("reader@example.test"));
        Assert.All(answers, a => Assert.Equal(answers[0], a));
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", answers[0]);
        Assert.Equal(4, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.SignUp))); // every consent is recorded
        Assert.Equal(3, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.DoiQueued)));

        // 24 hours after the first mail one of the three leaves the window: a new mail may go out.
        _clock.Advance(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1));
        var nextDay = await _app.ReaderClient().SignUpAsync("reader@example.test");
        Assert.Equal(answers[0], Strip(await nextDay.Content.ReadAsStringAsync()));
        await _app.OutboxIdleAsync();
        Assert.Equal(4, DoiMailsAtTheServer("reader@example.test"));

        // Another address has its own allowance.
        await _app.ReaderClient().SignUpAsync("other@example.test");
        await _app.OutboxIdleAsync();
        Assert.Equal(1, DoiMailsAtTheServer("other@example.test"));
    }

    [Fact]
    public async Task The_new_link_of_an_expired_DOI_counts_against_the_same_cap_and_answers_the_same_C42()
    {
        await _app.NewsletterAsync();
        for (var i = 0; i < 3; i++)
        {
            if (i > 0) _clock.Advance(TimeSpan.FromMinutes(61)); // the 1-hour link of the last mail has expired
            await _app.ReaderClient().SignUpAsync("reader@example.test");
        }
        await _app.OutboxIdleAsync();
        Assert.Equal(3, DoiMailsAtTheServer("reader@example.test"));
        var last = _app.Smtp.Messages.Last(m => m.To.Mailboxes.Any(b => b.Address == "reader@example.test"));
        var path = new Uri(Html.Links(last.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;

        _clock.Advance(TimeSpan.FromMinutes(61));
        var reader = _app.ReaderClient();
        var expired = await reader.GetStringAsync(path);
        Assert.Contains("Neuen Link senden", expired);
        var resent = await reader.PostFormAsync(path + "?handler=Resend", expired, []);
        Assert.Contains("ein neuer Bestätigungslink unterwegs", await resent.Content.ReadAsStringAsync());
        await _app.OutboxIdleAsync();
        Assert.Equal(3, DoiMailsAtTheServer("reader@example.test"));

        // The next day the same button sends a new link.
        _clock.Advance(TimeSpan.FromHours(22));
        var again = await reader.PostFormAsync(path + "?handler=Resend", await reader.GetStringAsync(path), []);
        Assert.Contains("ein neuer Bestätigungslink unterwegs", await again.Content.ReadAsStringAsync());
        await _app.OutboxIdleAsync();
        Assert.Equal(4, DoiMailsAtTheServer("reader@example.test"));
    }

    [Fact]
    public async Task The_DOI_to_a_new_address_is_capped_per_day_too_C42()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ConfirmedReadersAsync(newsletter, "reader@example.test");
        var outcomes = new List<AddressChangeOutcome>();
        for (var i = 0; i < 4; i++)
        {
            _clock.Advance(TimeSpan.FromHours(1));
            outcomes.Add(await RequestChangeAsync("reader@example.test", "neu@example.test"));
        }
        await _app.OutboxIdleAsync();

        Assert.All(outcomes, o => Assert.Equal(AddressChangeOutcome.Queued, o)); // the page says "sent" each time
        Assert.Equal(3, _app.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == "neu@example.test")));

        _clock.Advance(TimeSpan.FromHours(22));
        await RequestChangeAsync("reader@example.test", "neu@example.test");
        await _app.OutboxIdleAsync();
        Assert.Equal(4, _app.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == "neu@example.test")));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(-3, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void A_cap_below_one_is_refused_at_start_up_with_the_key_named_C42(int perDay, bool valid)
    {
        // Program.cs validates every option before anything runs and prints the failure.
        var result = new Common.ConsentOptionsValidator().Validate(null, new Common.ConsentOptions { DoiMailsPerAddressPerDay = perDay });
        Assert.Equal(valid, result.Succeeded);
        if (!valid) Assert.Contains("Consent:DoiMailsPerAddressPerDay", result.FailureMessage);
        Assert.Equal(3, new Common.ConsentOptions().DoiMailsPerAddressPerDay);
    }

    private async Task<AddressChangeOutcome> RequestChangeAsync(string current, string next)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var subscriber = await db.Subscribers.SingleAsync(s => s.EmailKey == current);
        return await scope.ServiceProvider.GetRequiredService<ManageService>().RequestAddressChangeAsync(subscriber, next, "127.0.0.1", "test");
    }

    private int DoiMailsAtTheServer(string email) =>
        _app.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == email) && m.Subject!.Contains("bestätigen"));

    // The antiforgery token differs per response; everything the reader reads must not.
    private static string Strip(string html) => AttributeValue().Replace(html, "");

    [GeneratedRegex("value=\"[^\"]*\"")]
    private static partial Regex AttributeValue();
}
