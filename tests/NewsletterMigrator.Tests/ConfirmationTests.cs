using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Confirm links, sameness of answers and rate limits, with a clock the test can move forward.</summary>
public sealed class ConfirmationTests : IAsyncLifetime
{
    private readonly SettableClock _clock = new();
    private readonly AppFactory _app;

    public ConfirmationTests()
    {
        _app = new AppFactory(settings: new()
        {
            ["Consent:SignUpsPerAddressPerHour"] = "3",
            ["Consent:SignUpMinimumDuration"] = "00:00:00.300",
        }) { TestServices = s => s.AddSingleton<TimeProvider>(_clock) };
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_new_link_for_a_newsletter_that_closed_meanwhile_is_neither_sent_nor_counted_C38_C42()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test");
        var path = ConfirmPath(await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen"));
        await _app.OutboxIdleAsync();
        await _app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.Impressum, "")));

        _clock.Advance(TimeSpan.FromHours(73));
        var expired = await reader.GetStringAsync(path);
        var resent = await reader.PostFormAsync(path + "?handler=Resend", expired, []);
        Assert.Contains("ein neuer Bestätigungslink unterwegs", await resent.Content.ReadAsStringAsync()); // the same answer (C30)
        Assert.Equal(1, await _app.WithDbAsync(db => db.OutboundMessages.CountAsync()));
        Assert.Equal(1, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.DoiQueued)));
    }

    [Fact]
    public async Task Confirm_tokens_have_256_bits_are_stored_only_hashed_work_once_and_expire_C29()
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test");
        var mail = await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen");
        var path = ConfirmPath(mail);
        var token = path["/confirm/".Length..];

        // 43 base64url characters = 256 bits; the database holds only its SHA-256.
        Assert.Matches("^[A-Za-z0-9_-]{43}$", token);
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(token)), subscriber.ConfirmTokenHash);
        Assert.False(await DatabaseFileContainsAsync(token));
        Assert.Equal(72, (subscriber.ConfirmTokenExpiresAtUtc!.Value - subscriber.LastDoiQueuedAtUtc!.Value).TotalHours, precision: 3);

        // A link one character off is unknown.
        var forged = "/confirm/" + (token[0] == 'A' ? 'B' : 'A') + token[1..];
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(forged)).StatusCode);

        // After 72 hours the link has expired: the page offers a new mail, and a POST confirms nothing.
        _clock.Advance(TimeSpan.FromHours(72) + TimeSpan.FromMinutes(1));
        var expired = await reader.GetStringAsync(path);
        Assert.Contains("Link abgelaufen", expired);
        Assert.Contains("Neuen Link senden", expired);
        await reader.PostFormAsync(path, expired, []);
        Assert.Equal(SubscriberStatus.Pending, await StatusAsync());

        // The new mail carries a new link; the old one stops working.
        var resent = await reader.PostFormAsync(path + "?handler=Resend", expired, []);
        Assert.Contains("ein neuer Bestätigungslink unterwegs", await resent.Content.ReadAsStringAsync());
        var second = await _app.Smtp.WaitForAsync(m => m.Subject!.Contains("bestätigen") && ConfirmPath(m) != path);
        var newPath = ConfirmPath(second);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(path)).StatusCode);

        // Used once: the first POST confirms, a second click only reads "already confirmed".
        var page = await reader.GetStringAsync(newPath);
        var confirmed = await reader.PostFormAsync(newPath, page, []);
        Assert.Contains("Anmeldung bestätigt", await confirmed.Content.ReadAsStringAsync());
        var again = await reader.PostFormAsync(newPath, page, []);
        Assert.Contains("Bereits bestätigt", await again.Content.ReadAsStringAsync());
        Assert.Contains("Bereits bestätigt", await reader.GetStringAsync(newPath));
        Assert.Equal(1, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.Confirmed)));
    }

    [Fact]
    public async Task Confirming_deletes_the_invited_contacts_phone_number_and_says_what_comes_next_C16()
    {
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0160 2424240", "0171 5551234")).First();
        var reader = _app.ReaderClient();
        await reader.SignUpAsync("reader@example.test", invitation);
        var path = ConfirmPath(await _app.Smtp.WaitForAsync("reader@example.test", "bestätigen"));
        var signUp = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        Assert.NotNull((await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.Id == signUp.InvitationContactId))).PhoneEncrypted);

        var page = await reader.GetStringAsync(path);
        var thanks = await (await reader.PostFormAsync(path, page, [])).Content.ReadAsStringAsync();
        Assert.Contains("Ab jetzt erhalten Sie", thanks);
        Assert.Contains("Link zur Abmeldung", thanks);

        var contacts = await _app.WithDbAsync(db => db.Contacts.ToListAsync());
        Assert.Null(contacts.Single(c => c.Id == signUp.InvitationContactId).PhoneEncrypted);
        Assert.NotNull(contacts.Single(c => c.Id != signUp.InvitationContactId).PhoneEncrypted); // the other reader's number stays
    }

    [Fact]
    public async Task New_pending_confirmed_and_suppressed_addresses_get_the_same_page_status_and_minimum_time_C30()
    {
        await _app.NewsletterAsync();
        // Pending.
        await _app.ReaderClient().SignUpAsync("pending@example.test");
        // Confirmed.
        var confirmer = _app.ReaderClient();
        await confirmer.SignUpAsync("confirmed@example.test");
        var path = ConfirmPath(await _app.Smtp.WaitForAsync("confirmed@example.test", "bestätigen"));
        await confirmer.PostFormAsync(path, await confirmer.GetStringAsync(path), []);
        // Suppressed: confirmed, then unsubscribed.
        var leaver = _app.ReaderClient();
        await leaver.SignUpAsync("left@example.test");
        var leavePath = ConfirmPath(await _app.Smtp.WaitForAsync("left@example.test", "bestätigen"));
        await leaver.PostFormAsync(leavePath, await leaver.GetStringAsync(leavePath), []);
        await UnsubscribeAsync("left@example.test");
        var mailsBefore = await _app.WithDbAsync(db => db.OutboundMessages.CountAsync());

        var answers = new List<(HttpStatusCode Status, string Html, TimeSpan Took)>();
        foreach (var email in new[] { "new@example.test", "pending@example.test", "confirmed@example.test", "left@example.test" })
        {
            var client = _app.ReaderClient();
            var page = await client.GetStringAsync("/n/eilmeldungen");
            var started = Stopwatch.GetTimestamp();
            var response = await client.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, email));
            var took = Stopwatch.GetElapsedTime(started);
            answers.Add((response.StatusCode, Strip(await response.Content.ReadAsStringAsync()), took));
        }
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(answers, a => Assert.Equal(answers[0].Html, a.Html));
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", answers[0].Html);
        // Every answer waits for the configured minimum, so the fast paths do not stand out.
        Assert.All(answers, a => Assert.True(a.Took >= TimeSpan.FromMilliseconds(290), $"answered after {a.Took.TotalMilliseconds} ms"));

        // New gets a DOI, the unsubscribed reader's fresh consent gets one, pending (within the interval) and confirmed get none.
        var queued = await _app.WithDbAsync(db => db.OutboundMessages.OrderBy(m => m.Id).Skip(mailsBefore).Select(m => m.ToAddress).ToListAsync());
        Assert.Equal(["new@example.test", "left@example.test"], queued);
    }

    [Fact]
    public async Task A_pending_address_gets_at_most_one_fresh_DOI_mail_per_interval_C30()
    {
        await _app.NewsletterAsync();
        await _app.ReaderClient().SignUpAsync("pending@example.test");
        await _app.ReaderClient().SignUpAsync("pending@example.test");
        Assert.Equal(1, await DoiCountAsync());
        _clock.Advance(TimeSpan.FromMinutes(11));
        await _app.ReaderClient().SignUpAsync("pending@example.test");
        Assert.Equal(2, await DoiCountAsync());
    }

    [Fact]
    public async Task Sign_ups_for_one_address_are_limited_per_hour_with_a_friendly_429_page_C31()
    {
        await _app.NewsletterAsync();
        for (var i = 0; i < 3; i++)
        {
            _clock.Advance(TimeSpan.FromMinutes(11)); // past the resend interval: each would send a mail
            Assert.Equal(HttpStatusCode.OK, (await _app.ReaderClient().SignUpAsync("victim@example.test")).StatusCode);
        }
        _clock.Advance(TimeSpan.FromMinutes(11));
        var refused = await _app.ReaderClient("en").SignUpAsync("victim@example.test");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Too many sign-ups right now", html);
        Assert.Contains("try again in an hour", html);
        Assert.Equal(3, await DoiCountAsync());
        Assert.Equal(3, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Kind == ConsentEventKind.SignUp)));

        // Another address is not affected, and after an hour the limit opens again.
        Assert.Equal(HttpStatusCode.OK, (await _app.ReaderClient().SignUpAsync("other@example.test")).StatusCode);
        _clock.Advance(TimeSpan.FromMinutes(40));
        Assert.Equal(HttpStatusCode.OK, (await _app.ReaderClient().SignUpAsync("victim@example.test")).StatusCode);
    }

    private async Task UnsubscribeAsync(string email)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var subscriber = await db.Subscribers.SingleAsync(s => s.Email == email);
        var token = scope.ServiceProvider.GetRequiredService<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
        Assert.True(await scope.ServiceProvider.GetRequiredService<UnsubscribeService>().UnsubscribeAsync(token, WithdrawalChannel.Link));
        // As erasure or a hard bounce would: the address is on the suppression list too.
        db.Suppressions.Add(new Suppression
        {
            Kind = SuppressionKind.Email, Hash = SuppressionHash.Email(scope.ServiceProvider.GetRequiredService<KeyRing>(), subscriber.EmailKey),
            Reason = "test", CreatedAtUtc = DateTime.UtcNow,
        });
        await db.SaveChangesAsync();
    }

    private async Task<bool> DatabaseFileContainsAsync(string text)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var needle = Encoding.UTF8.GetBytes(text);
        foreach (var file in Directory.GetFiles(_app.DataDirectory, "test.db*"))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            if (copy.ToArray().AsSpan().IndexOf(needle) >= 0) return true;
        }
        return false;
    }

    private static string ConfirmPath(MimeKit.MimeMessage mail) => new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;

    private Task<SubscriberStatus> StatusAsync() => _app.WithDbAsync(db => db.Subscribers.Select(s => s.Status).SingleAsync());

    private Task<int> DoiCountAsync() => _app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.DoubleOptIn));

    // The antiforgery token differs per response; everything the reader reads must not.
    private static string Strip(string html) => System.Text.RegularExpressions.Regex.Replace(html, "value=\"[^\"]*\"", "");
}
