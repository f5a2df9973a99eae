using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Data;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Welcome;

/// <summary>
/// Issue 21, point 3: the welcome after a confirmed DOI goes once, through the outbox, after the DOI mail and never inside it
/// (C8), as a newsletter mail with everything a newsletter mail carries, and only to readers who are still subscribed.
/// </summary>
public sealed class WelcomeMailTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_reader_who_confirms_gets_one_welcome_after_the_DOI_mail_as_a_newsletter_mail_C8_C4_C21_C22_C23_C25()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter);
        var (reader, doi) = await _app.SignUpWithDoiAsync("leserin@example.test");
        // The DOI mail stays neutral: nothing of the welcome is in it (C8).
        Assert.DoesNotContain("dabei sind", doi.HtmlBody);
        Assert.DoesNotContain("dabei sind", doi.TextBody);
        Assert.Empty(await _app.WelcomeRowsAsync()); // nothing is queued before the confirmation

        await WelcomeSteps.ConfirmAsync(reader, doi);
        var welcome = await _app.Smtp.WaitForAsync("leserin@example.test", "Willkommen beim Tagblatt Eilmeldungen");
        await _app.OutboxIdleAsync();
        Assert.Single(await _app.WelcomesToAsync("leserin@example.test"));
        var messages = _app.Smtp.Messages.ToList();
        Assert.True(messages.IndexOf(doi) < messages.IndexOf(welcome), "the welcome came before the DOI mail");
        Assert.NotEqual(doi.MessageId, welcome.MessageId);

        // The editor's Markdown, rendered and sanitised.
        Assert.Contains("<strong>das Wichtigste</strong>", welcome.HtmlBody);
        Assert.DoesNotContain("<script", welcome.HtmlBody);
        Assert.Contains("https://tagblatt.example.test/archiv", Html.Links(welcome.HtmlBody));
        // A newsletter mail: one-click unsubscribe and List-Id (C21, C23), visible unsubscribe and manage links with the
        // Art. 21 note (C22, C4), the Impressum (C25), and a plain-text part beside the HTML (C23).
        var unsubscribeHeader = welcome.Headers["List-Unsubscribe"]!;
        Assert.Matches("^<http://localhost/u/[A-Za-z0-9_-]{43}>$", unsubscribeHeader);
        Assert.Equal("List-Unsubscribe=One-Click", welcome.Headers["List-Unsubscribe-Post"]);
        Assert.Contains("eilmeldungen.localhost", welcome.Headers[HeaderId.ListId]);
        Assert.Equal("newsletter@tagblatt.example.test", welcome.From.Mailboxes.Single().Address);
        var alternative = Assert.IsType<MultipartAlternative>(welcome.Body);
        Assert.Contains(alternative, part => part.ContentType.IsMimeType("text", "plain"));
        var unsubscribeUrl = unsubscribeHeader.Trim('<', '>');
        Assert.Contains(unsubscribeUrl, Html.Links(welcome.HtmlBody));
        Assert.Contains(unsubscribeUrl, welcome.TextBody);
        Assert.Contains(Html.Links(welcome.HtmlBody), l => l.Contains("/manage/"));
        Assert.Contains("Newsletter abbestellen", welcome.HtmlBody);
        Assert.Contains("Art. 21 DSGVO", welcome.HtmlBody);
        Assert.Contains("Art. 21 DSGVO", welcome.TextBody);
        Assert.Contains("Tagblatt GmbH, Musterstra", welcome.HtmlBody);
        Assert.Contains("Tagblatt GmbH, Musterstraße 1", welcome.TextBody);
        Assert.Contains("Schön, dass Sie dabei sind!", welcome.TextBody);

        // Its row: one per reader, after DOI mails and before any campaign row.
        var row = Assert.Single(await _app.WelcomeRowsAsync());
        Assert.Equal((MessageStatus.Sent, welcome.MessageId), (row.Status, row.MessageId));
        Assert.InRange(row.Priority, Outbox.UrgentPriority + 1, Outbox.BreakingPriority - 1);
        Assert.NotNull((await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).WelcomeQueuedAtUtc);

        // Its one-click header works like a campaign's (C21).
        await _app.OneClickAsync(new Uri(unsubscribeUrl).AbsolutePath);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
    }

    [Fact]
    public async Task English_readers_get_the_English_text_or_else_the_German_one_with_its_subject_and_an_English_footer()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter, markdownEn: WelcomeSteps.EnglishText, subjectEn: "Welcome aboard");
        await _app.ConfirmedWithDoiAsync("reader@example.test", "en");
        var english = await _app.Smtp.WaitForAsync("reader@example.test", "Welcome aboard");
        Assert.Contains("<strong>the essentials</strong>", english.HtmlBody);
        Assert.DoesNotContain("dabei sind", english.HtmlBody);
        Assert.Contains("Unsubscribe from this newsletter", english.HtmlBody);
        Assert.Contains("Art. 21 GDPR", english.TextBody);

        // Without an English text English readers get the German text and subject (the default one here), the footer
        // still in their language.
        await _app.WelcomeAsync(newsletter, markdownEn: "");
        await _app.ConfirmedWithDoiAsync("second@example.test", "en");
        var german = await _app.Smtp.WaitForAsync("second@example.test", "Willkommen beim Tagblatt Eilmeldungen");
        Assert.Contains("<div lang=\"de\">", german.HtmlBody);
        Assert.Contains("<strong>das Wichtigste</strong>", german.HtmlBody);
        Assert.Contains("Unsubscribe from this newsletter", german.HtmlBody);

        // A German reader never gets the English text.
        await _app.WelcomeAsync(newsletter, markdownEn: WelcomeSteps.EnglishText, subject: "Schön, dass Sie da sind");
        await _app.ConfirmedWithDoiAsync("leser@example.test", "de");
        var de = await _app.Smtp.WaitForAsync("leser@example.test", "Schön, dass Sie da sind");
        Assert.Contains("<strong>das Wichtigste</strong>", de.HtmlBody);
        Assert.Contains("Newsletter abbestellen", de.HtmlBody);
        await _app.OutboxIdleAsync();
        Assert.Equal(3, (await _app.WelcomeRowsAsync()).Count);
    }

    [Fact]
    public async Task The_DOI_mails_wording_and_hash_do_not_change_with_the_welcome_C8_C43()
    {
        var newsletter = await _app.NewsletterAsync();
        var messages = _app.Service<MessageFactory>();
        var expires = new DateTime(2026, 12, 24, 12, 0, 0, DateTimeKind.Utc);
        var before = messages.DoiText(newsletter, "de", expires);
        await _app.WelcomeAsync(newsletter, markdownEn: WelcomeSteps.EnglishText, latestIssues: 5);
        var on = await _app.WithDbAsync(db => db.Newsletters.AsNoTracking().SingleAsync());
        Assert.True(on.WelcomeEnabled);
        Assert.Equal(before.Sha256(), messages.DoiText(on, "de", expires).Sha256());
        Assert.Equal(messages.DoiText(newsletter, "en", expires).Sha256(), messages.DoiText(on, "en", expires).Sha256());
    }

    [Fact]
    public async Task No_welcome_while_it_is_off_and_none_for_readers_confirmed_before_it_was_switched_on_whatever_they_do_later()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter, enabled: false);
        await _app.ConfirmedWithDoiAsync("frueher@example.test");
        await _app.OutboxIdleAsync();
        Assert.Empty(await _app.WelcomeRowsAsync());

        await _app.WelcomeAsync(newsletter);
        await _app.ConfirmedWithDoiAsync("neu@example.test");
        await _app.Smtp.WaitForAsync("neu@example.test", "Willkommen");
        // No back-fill when it is switched on, nor when a campaign goes out, nor when it is switched off and on again.
        await _app.CampaignAsync(newsletter, "Eilmeldung: Sperrung der Mainbrücke");
        await _app.WelcomeAsync(newsletter, enabled: false);
        await _app.WelcomeAsync(newsletter);
        // The earlier reader leaves and comes back: still a reader confirmed before the welcome began.
        await _app.UnsubscribeOneClickAsync("frueher@example.test");
        await _app.ConfirmedWithDoiAsync("frueher@example.test");
        Assert.Equal(SubscriberStatus.Confirmed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "frueher@example.test"))).Status);
        await _app.OutboxIdleAsync();

        Assert.Empty(await _app.WelcomesToAsync("frueher@example.test"));
        Assert.Single(await _app.WelcomesToAsync("neu@example.test"));
        Assert.Single(await _app.WelcomeRowsAsync());
    }

    /// <summary>Fails without the WelcomeQueuedAtUtc guard in Consent/WelcomeQueue (tried: the reader who came back got a second one).</summary>
    [Fact]
    public async Task Confirming_twice_at_once_or_again_after_unsubscribing_and_signing_up_sends_one_welcome()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter);

        // Two presses of the button, one after the other and (another reader) both at once.
        var (reader, doi) = await _app.SignUpWithDoiAsync("zweimal@example.test");
        var path = ReaderSteps.PathOf(doi, "/confirm/");
        var page = await reader.GetStringAsync(path);
        await reader.PostFormAsync(path, page, []);
        Assert.Contains("Bereits bestätigt", await (await reader.PostFormAsync(path, page, [])).Content.ReadAsStringAsync());
        var (racer, racerDoi) = await _app.SignUpWithDoiAsync("gleichzeitig@example.test");
        var racePath = ReaderSteps.PathOf(racerDoi, "/confirm/");
        var racePage = await racer.GetStringAsync(racePath);
        var other = _app.ReaderClient();
        await Task.WhenAll(racer.PostFormAsync(racePath, racePage, []), other.PostFormAsync(racePath, await other.GetStringAsync(racePath), []));

        // Confirmed, unsubscribed, signed up and confirmed again.
        await _app.Smtp.WaitForAsync("zweimal@example.test", "Willkommen");
        await _app.UnsubscribeOneClickAsync("zweimal@example.test");
        await _app.ConfirmedWithDoiAsync("zweimal@example.test");
        Assert.Equal(SubscriberStatus.Confirmed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync(s => s.EmailKey == "zweimal@example.test"))).Status);
        await _app.OutboxIdleAsync();

        Assert.Single(await _app.WelcomesToAsync("zweimal@example.test"));
        Assert.Single(await _app.WelcomesToAsync("gleichzeitig@example.test"));
        Assert.Equal(2, (await _app.WelcomeRowsAsync()).Count);
    }

    [Fact]
    public async Task A_reader_who_unsubscribes_or_is_erased_while_the_welcome_waits_gets_nothing_C1_C12()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter);
        var readers = new[] { "bleibt@example.test", "geht@example.test", "geloescht@example.test" };
        var signedUp = new List<(HttpClient Reader, MimeMessage Doi)>();
        foreach (var email in readers) signedUp.Add(await _app.SignUpWithDoiAsync(email));
        // The mail server is down: the welcomes wait in the outbox while two of the readers leave.
        await _app.Smtp.StopAsync();
        foreach (var (reader, doi) in signedUp) await WelcomeSteps.ConfirmAsync(reader, doi);
        Assert.Equal(3, (await _app.WelcomeRowsAsync()).Count(r => r.Status is MessageStatus.Queued or MessageStatus.Leased));
        // Each row back in the queue and due only later, so no worker holds one while the readers leave: a mail already handed
        // to a connection cannot be called back, and the worker's re-check before sending is what this test is about.
        await HoldWelcomesAsync(DateTime.UtcNow.AddHours(1));
        await _app.UnsubscribeOneClickAsync("geht@example.test");
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var erased = await db.Subscribers.SingleAsync(s => s.EmailKey == "geloescht@example.test");
            await scope.ServiceProvider.GetRequiredService<ErasureService>().EraseAsync(erased, "admin", "admin@example.test");
        }
        _app.Smtp.Start();
        await _app.WithDbAsync(db => db.OutboundMessages.Where(m => m.Kind == MessageKind.Welcome && m.Status == MessageStatus.Queued)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.NextAttemptAtUtc, DateTime.UtcNow)));
        _app.Service<OutboxSignal>().Notify();

        await _app.Smtp.WaitForAsync("bleibt@example.test", "Willkommen", TimeSpan.FromSeconds(60));
        await _app.OutboxIdleAsync();
        Assert.Empty(await _app.WelcomesToAsync("geht@example.test"));
        Assert.Empty(await _app.WelcomesToAsync("geloescht@example.test"));
        Assert.DoesNotContain(_app.Smtp.Messages, m => (WelcomeSteps.IsTo(m, "geht@example.test") || WelcomeSteps.IsTo(m, "geloescht@example.test"))
                                                        && m.Subject!.Contains("Willkommen"));
        var rows = await _app.WelcomeRowsAsync();
        Assert.Equal([MessageStatus.Sent, MessageStatus.Cancelled, MessageStatus.Cancelled], rows.Select(r => r.Status));
    }

    // Puts every queued welcome's next attempt at the given time, until none is leased (a leased one comes back queued
    // after its failed attempt against the stopped server).
    private async Task HoldWelcomesAsync(DateTime until)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await _app.WithDbAsync(db => db.OutboundMessages.Where(m => m.Kind == MessageKind.Welcome && m.Status == MessageStatus.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.NextAttemptAtUtc, until)));
            var rows = await _app.WelcomeRowsAsync();
            if (rows.All(r => r.Status == MessageStatus.Queued && r.NextAttemptAtUtc > until.AddMinutes(-1))) return;
            Assert.True(DateTime.UtcNow < deadline, "a welcome stayed leased");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_welcome_switched_off_before_it_went_out_is_not_sent()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.WelcomeAsync(newsletter);
        var (reader, doi) = await _app.SignUpWithDoiAsync("leser@example.test");
        await _app.Smtp.StopAsync();
        await WelcomeSteps.ConfirmAsync(reader, doi);
        await _app.WelcomeAsync(newsletter, enabled: false);
        _app.Smtp.Start();
        await _app.OutboxIdleAsync();
        Assert.Equal(MessageStatus.Cancelled, Assert.Single(await _app.WelcomeRowsAsync()).Status);
        Assert.Empty(await _app.WelcomesToAsync("leser@example.test"));
    }
}
