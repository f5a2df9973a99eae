using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 4: simultaneous sign-ups for one address on a real Kestrel server. The probe saw 500s
/// (the unique index on newsletter and address refused the second insert) and a burst that let 6 sign-ups
/// past the per-address limit of 5. Whatever the interleaving: one subscriber row, the limit and the DOI
/// mail rules hold, and every reader gets one of the two friendly pages.
/// </summary>
public sealed class SignUpConcurrencyTests
{
    private const int Readers = 8;
    private const int Bursts = 4;
    private const int PerAddressPerHour = 5; // the default limit (C31)

    [Theory]
    [InlineData("general")]
    [InlineData("invitation")]
    public async Task Eight_simultaneous_sign_ups_for_a_new_address_store_one_subscriber_and_one_DOI_mail_and_answer_only_friendly_pages_C30_C31(string page)
    {
        await using var app = Server(new());
        var newsletter = await app.NewsletterAsync();
        for (var burst = 0; burst < Bursts; burst++)
        {
            var email = $"burst{burst}@example.test";
            var path = page == "general" ? "/n/eilmeldungen" : (await app.InvitationsAsync(newsletter, $"0160 24242{burst:00}")).Single();

            var answers = await SignUpBurstAsync(app, path, email);

            AssertFriendly(answers);
            Assert.Equal(PerAddressPerHour, answers.Count(a => a.Status == HttpStatusCode.OK));
            var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == email));
            Assert.Equal(PerAddressPerHour, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id && e.Kind == ConsentEventKind.SignUp)));
            // Within the resend interval one DOI mail, however many sign-ups came at once (C30).
            Assert.Equal(1, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id && e.Kind == ConsentEventKind.DoiQueued)));
            if (page == "invitation") Assert.NotNull(subscriber.ContactId);
        }
        await app.OutboxIdleAsync();
        for (var burst = 0; burst < Bursts; burst++) Assert.Equal(1, DoiMails(app, $"burst{burst}@example.test"));
        Assert.Equal(Bursts, await app.WithDbAsync(db => db.Subscribers.CountAsync()));
    }

    [Theory]
    [InlineData("general")]
    [InlineData("invitation")]
    public async Task A_burst_for_one_address_queues_no_more_DOI_mails_than_the_daily_cap_C42(string page)
    {
        // No resend interval: every accepted sign-up would queue a mail, so only the cap (3 a day) holds them back.
        await using var app = Server(new() { ["Consent:DoiResendInterval"] = "00:00:00" });
        var newsletter = await app.NewsletterAsync();
        for (var burst = 0; burst < Bursts; burst++)
        {
            var email = $"cap{burst}@example.test";
            var path = page == "general" ? "/n/eilmeldungen" : (await app.InvitationsAsync(newsletter, $"0160 24243{burst:00}")).Single();

            var answers = await SignUpBurstAsync(app, path, email);

            AssertFriendly(answers);
            Assert.Equal(PerAddressPerHour, answers.Count(a => a.Status == HttpStatusCode.OK));
            var subscriber = await app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == email));
            Assert.Equal(3, await app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id && e.Kind == ConsentEventKind.DoiQueued)));
        }
        await app.OutboxIdleAsync();
        for (var burst = 0; burst < Bursts; burst++) Assert.Equal(3, DoiMails(app, $"cap{burst}@example.test"));
    }

    private static AppFactory Server(Dictionary<string, string?> settings)
    {
        settings["Consent:SignUpsPerIpPerHour"] = "100000"; // every reader of the test comes from 127.0.0.1
        settings["Consent:SignUpMinimumDuration"] = "00:00:00.050";
        var app = new AppFactory(kestrel: true, settings: settings);
        app.StartServer();
        return app;
    }

    /// <summary>Eight readers open the page, each in their own browser, then all press the button at once.</summary>
    private static async Task<(HttpStatusCode Status, string Body)[]> SignUpBurstAsync(AppFactory app, string path, string email)
    {
        var readers = Enumerable.Range(0, Readers).Select(_ => app.RealBrowser()).ToList();
        var pages = await Task.WhenAll(readers.Select(r => r.GetStringAsync(path)));
        var responses = await Task.WhenAll(readers.Select((r, i) => r.PostFormAsync(path, pages[i], TestData.SignUpForm(pages[i], email))));
        var answers = await Task.WhenAll(responses.Select(async r => (r.StatusCode, await r.Content.ReadAsStringAsync())));
        foreach (var reader in readers) reader.Dispose();
        return answers;
    }

    /// <summary>"Check your inbox", or the friendly page of the per-address limit; never an error page.</summary>
    private static void AssertFriendly((HttpStatusCode Status, string Body)[] answers)
    {
        foreach (var (status, body) in answers)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"A sign-up answered {(int)status}.");
            Assert.Contains(status == HttpStatusCode.OK ? "Bitte sehen Sie in Ihr Postfach" : "Gerade zu viele Anmeldungen", body);
        }
    }


    private static int DoiMails(AppFactory app, string email) =>
        app.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == email) && m.Subject!.Contains("bestätigen"));
}
