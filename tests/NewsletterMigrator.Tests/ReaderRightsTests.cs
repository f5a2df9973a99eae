using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The preference page, the access link (C33), export (C14), change of address and erasure (C18) through the real pages.</summary>
public sealed class ReaderRightsTests : IAsyncLifetime
{
    private const string Address = "leser@example.test";
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Newsletter_footer_links_the_preference_page_which_shows_status_and_changes_language_without_revealing_the_address_C33()
    {
        var newsletter = await _app.NewsletterAsync();
        var reader = await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var mail = await _app.NewsletterMailAsync(_app.Smtp, newsletter, Address, "Ausgabe 1");

        var manage = ReaderSteps.PathOf(mail, "/manage/");
        Assert.Matches("^/manage/[A-Za-z0-9_-]{43}$", manage);
        Assert.Contains("http://localhost" + manage, mail.TextBody);
        var page = await reader.GetStringAsync(manage);
        Assert.Contains("Sie erhalten den Newsletter", page);
        Assert.DoesNotContain(Address, page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("leser@", page);

        var response = await reader.PostFormAsync(manage + "?handler=Language", page, new() { ["language"] = "en" });
        Assert.Contains("Die Sprache wurde gespeichert", await response.Content.ReadAsStringAsync());
        Assert.Equal("en", (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Language);

        // The unsubscribe page links here too.
        var unsubscribe = ReaderSteps.PathOf(mail, "/u/");
        Assert.Contains(manage, Html.Links(await reader.GetStringAsync(unsubscribe)));

        // A forged or unknown token changes nothing and says so.
        var forged = await reader.GetAsync("/manage/" + new string('A', 43));
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        Assert.Contains("Link ungültig", await forged.Content.ReadAsStringAsync());

        // Unsubscribing from the preference page is one click (C12).
        page = await reader.GetStringAsync(manage);
        await reader.PostFormAsync(manage + "?handler=Unsubscribe", page, []);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
        Assert.Contains("abgemeldet", await reader.GetStringAsync(manage));
    }

    [Fact]
    public async Task Export_needs_a_fresh_link_to_the_subscribed_address_and_contains_subscriber_ledger_and_mails_C14_C33()
    {
        var newsletter = await _app.NewsletterAsync();
        var reader = await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var mail = await _app.NewsletterMailAsync(_app.Smtp, newsletter, Address, "Ausgabe 1");
        var manage = ReaderSteps.PathOf(mail, "/manage/");

        var page = await reader.GetStringAsync(manage);
        var response = await reader.PostFormAsync(manage + "?handler=Access", page, []);
        Assert.Contains("Link an Ihre eingetragene Adresse gesendet", await response.Content.ReadAsStringAsync());
        var accessMail = await _app.Smtp.WaitForAsync(Address, "Link zu Ihren Daten");
        var access = ReaderSteps.PathOf(accessMail, "/manage/access/");
        Assert.DoesNotContain(access, page);

        // A second request within the interval sends no second mail, and the page says the same.
        await reader.PostFormAsync(manage + "?handler=Access", page, []);
        await Task.Delay(500);
        Assert.Single(_app.Smtp.Messages, m => m.Subject?.Contains("Link zu Ihren Daten") == true);

        var accessPage = await reader.GetStringAsync(access);
        Assert.Contains(Address, accessPage);
        response = await reader.PostFormAsync(access + "?handler=Export", accessPage, []);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal(Address, root.GetProperty("subscriber").GetProperty("email").GetString());
        Assert.Equal("Confirmed", root.GetProperty("subscriber").GetProperty("status").GetString());
        var kinds = root.GetProperty("consentLedger").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Contains("SignUp", kinds);
        Assert.Contains("Confirmed", kinds);
        var signUp = root.GetProperty("consentLedger").EnumerateArray().First(e => e.GetProperty("kind").GetString() == "SignUp");
        Assert.False(string.IsNullOrEmpty(signUp.GetProperty("consentText").GetProperty("statement").GetString()));
        Assert.Contains(root.GetProperty("mails").EnumerateArray(), m => m.GetProperty("subject").GetString() == "Ausgabe 1");

        // The link expires (1 hour): an expired link opens nothing.
        await _app.WithDbAsync(db => db.Subscribers.ExecuteUpdateAsync(u => u.SetProperty(s => s.AccessTokenExpiresAtUtc, DateTime.UtcNow.AddMinutes(-1))));
        var expired = await reader.GetAsync(access);
        Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        Assert.Contains("abgelaufen", await expired.Content.ReadAsStringAsync());
        Assert.DoesNotContain(Address, await expired.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Change_of_address_keeps_the_old_address_until_the_new_one_confirms_C14()
    {
        const string newAddress = "neu@example.test";
        var newsletter = await _app.NewsletterAsync();
        var reader = await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var access = await AccessPathAsync(reader, newsletter);

        var page = await reader.GetStringAsync(access);
        var bad = await reader.PostFormAsync(access + "?handler=Change", page, new() { ["newEmail"] = "kein-at-zeichen" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("gültige E-Mail-Adresse", await bad.Content.ReadAsStringAsync());
        Assert.Null((await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).PendingEmail);

        var response = await reader.PostFormAsync(access + "?handler=Change", page, new() { ["newEmail"] = newAddress });
        Assert.Contains("bisherige Adresse eingetragen", await response.Content.ReadAsStringAsync());
        var changeMail = await _app.Smtp.WaitForAsync(newAddress, "neue Adresse");
        var change = ReaderSteps.PathOf(changeMail, "/manage/change/");
        Assert.Equal(Address, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Email);

        // Until confirmed, the newsletter still goes to the old address.
        await _app.NewsletterMailAsync(_app.Smtp, newsletter, Address, "Noch an die alte Adresse");

        // GET shows a button and changes nothing (C9); the POST changes the address.
        var changePage = await reader.GetStringAsync(change);
        Assert.Equal(Address, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Email);
        response = await reader.PostFormAsync(change, changePage, []);
        Assert.Contains("Adresse geändert", await response.Content.ReadAsStringAsync());
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(newAddress, subscriber.Email);
        Assert.Null(subscriber.PendingEmail);
        Assert.True(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.AddressChanged && e.SubscriberId == subscriber.Id)));
        // The old address's access link stops working with the change.
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(access)).StatusCode);

        await _app.NewsletterMailAsync(_app.Smtp, newsletter, newAddress, "An die neue Adresse");
    }

    [Fact]
    public async Task Erasure_after_one_confirmation_keeps_only_hashes_and_the_pseudonymised_ledger_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0160 24 24 24 0")).Single();
        // Signed up but not yet confirmed: the contact still holds the number.
        var reader = await _app.SignUpAsync(invitation, Address);
        await _app.Smtp.WaitForAsync(Address, "bestätigen");
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        var manage = "/manage/" + _app.Service<TokenService>().Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
        var page = await reader.GetStringAsync(manage);
        await reader.PostFormAsync(manage + "?handler=Access", page, []);
        var access = ReaderSteps.PathOf(await _app.Smtp.WaitForAsync(Address, "Link zu Ihren Daten"), "/manage/access/");
        var ledgerBefore = await _app.WithDbAsync(db => db.ConsentEvents.CountAsync());

        // Step one asks; nothing is erased yet.
        var accessPage = await reader.GetStringAsync(access);
        var response = await reader.PostFormAsync(access + "?handler=Erase", accessPage, []);
        var confirmPage = await response.Content.ReadAsStringAsync();
        Assert.Contains("Ja, endgültig löschen", confirmPage);
        Assert.True(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));

        response = await reader.PostFormAsync(access + "?handler=EraseConfirmed", confirmPage, []);
        Assert.Contains("Ihre Daten wurden gelöscht", await response.Content.ReadAsStringAsync());

        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        var contact = await _app.WithDbAsync(db => db.Contacts.SingleAsync());
        Assert.Null(contact.PhoneEncrypted);
        Assert.Null(contact.DisplayName);
        Assert.NotEqual(_app.Service<PhoneProtector>().Hmac("+491602424240"), contact.PhoneHmac);
        Assert.False(await _app.WithDbAsync(db => db.ContactPhones.AnyAsync())); // no longer found by the number
        var keys = _app.Service<KeyRing>();
        var emailHash = SuppressionHash.Email(keys, Address);
        Assert.True(await _app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Email && s.Hash == emailHash)));
        Assert.True(await _app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Phone)));
        // The ledger stays (append-only) and is found through the keyed hash of the address.
        var pseudonym = await _app.WithDbAsync(db => db.ErasedSubscribers.SingleAsync(x => x.EmailHash == emailHash));
        Assert.Equal(subscriber.Id, pseudonym.SubscriberId);
        Assert.Equal(ledgerBefore + 1, await _app.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.SubscriberId == subscriber.Id)));
        Assert.True(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.Erased && e.Channel == "link")));
        Assert.DoesNotContain(await _app.WithDbAsync(db => db.OutboundMessages.ToListAsync()), m => m.ToAddress.Contains("leser"));
        // The link is dead now.
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(access)).StatusCode);

        // The number is never imported again.
        Assert.Empty(await _app.InvitationsAsync(newsletter, "+49 160 2424240"));

        // The reader's own new, confirmed DOI lifts the email suppression.
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        Assert.False(await _app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Email && s.Hash == emailHash)));
    }

    [Fact]
    public async Task Queued_mail_is_cancelled_by_erasure_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        // A campaign row queued for the future stands for mail not yet delivered.
        await _app.WithDbAsync(async db =>
        {
            db.OutboundMessages.Add(new OutboundMessage
            {
                Kind = MessageKind.Campaign, Status = MessageStatus.Queued, NewsletterId = newsletter.Id, SubscriberId = subscriber.Id,
                ToAddress = Address, MessageId = "queued@example.test", CreatedAtUtc = DateTime.UtcNow, NextAttemptAtUtc = DateTime.UtcNow.AddDays(1),
            });
            return await db.SaveChangesAsync();
        });
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var tracked = await db.Subscribers.SingleAsync();
            await scope.ServiceProvider.GetRequiredService<Subscribers.ErasureService>().EraseAsync(tracked, "admin", "admin@example.test");
        }
        var row = await _app.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.MessageId == "queued@example.test"));
        Assert.Equal(MessageStatus.Cancelled, row.Status);
        Assert.Equal("", row.ToAddress);
        Assert.True(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "erase" && a.UserName == "admin@example.test")));
    }

    private async Task<string> AccessPathAsync(HttpClient reader, Newsletter newsletter)
    {
        var mail = await _app.NewsletterMailAsync(_app.Smtp, newsletter, Address, "Ausgabe 1");
        var manage = ReaderSteps.PathOf(mail, "/manage/");
        var page = await reader.GetStringAsync(manage);
        await reader.PostFormAsync(manage + "?handler=Access", page, []);
        return ReaderSteps.PathOf(await _app.Smtp.WaitForAsync(Address, "Link zu Ihren Daten"), "/manage/access/");
    }
}
