using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The invitation text (C41, C11): the same neutral message wherever an invitation is made, and its real length.</summary>
public sealed class InvitationTextTests : IAsyncLifetime
{
    private const string Sender = "Tagblatt Eilmeldungen (Tagblatt Verlag GmbH)";
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string QueueMessage(string page) =>
        WebUtility.HtmlDecode(Regex.Match(page, "<pre[^>]*id=\"queue-message\">([^<]*)</pre>").Groups[1].Value);

    [Fact]
    public async Task The_default_invitation_names_the_sender_says_why_links_the_privacy_notice_and_how_to_object_in_both_languages_C41()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"));
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        var editor = await _app.EditorAsync();

        var german = QueueMessage(await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Lang=de"));
        Assert.StartsWith($"Hallo Anna, hier schreibt {Sender}.", german);
        Assert.Contains("Sie hatten unseren WhatsApp-Newsletter abonniert, den WhatsApp nicht mehr erlaubt.", german);
        Assert.Contains("widersprechen Sie im Link", german); // C41: STOP, or the link
        Assert.Matches(@"weiter: http://localhost/i/[A-Za-z0-9_-]{43}\n", german);
        Assert.Contains($"Datenschutz: {LegalIdentity.PrivacyUrl}", german);
        Assert.Contains("Antworten Sie STOP", german);
        // Neutral and short: no advertising words, one message that fits a phone screen.
        Assert.DoesNotMatch("(?i)gratis|rabatt|angebot|jetzt|exklusiv", german);
        Assert.InRange(german.Length, 200, 400);

        var english = QueueMessage(await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Lang=en"));
        Assert.StartsWith($"Hello Anna, this is {Sender}.", english);
        Assert.Contains("You subscribed to our WhatsApp newsletter; WhatsApp no longer allows such newsletters.", english);
        Assert.Contains($"Privacy: {LegalIdentity.PrivacyUrl}", english);
        Assert.Contains("Reply STOP", english);
        Assert.InRange(english.Length, 200, 400);

        // The export's wa.me draft carries the very same text.
        var admin = await _app.AdminAsync();
        var csv = await admin.GetStringAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        var draft = Uri.UnescapeDataString(Regex.Match(csv, "https://wa\\.me/491601111111\\?text=([^\"]+)").Groups[1].Value);
        Assert.Equal(german, draft);
    }

    [Fact]
    public async Task Custom_texts_can_use_sender_and_privacy_and_the_queue_warns_when_a_text_leaves_them_out_C41()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"));
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        await _app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u
            .SetProperty(n => n.InvitationMessage, "Hallo {name}! {sender} zieht um: {link} ({privacy}) Kein Interesse? STOP.")
            .SetProperty(n => n.InvitationMessageEn, "Hi {name}, sign up: {link}")));
        var editor = await _app.EditorAsync();

        var german = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Lang=de");
        Assert.Matches($"^Hallo Anna! {Regex.Escape(Sender)} zieht um: http://localhost/i/\\S+ \\({Regex.Escape(LegalIdentity.PrivacyUrl)}\\) Kein Interesse\\? STOP\\.$", QueueMessage(german));
        Assert.DoesNotContain("queue-text-incomplete", german);

        var english = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Lang=en");
        Assert.Contains("id=\"queue-text-incomplete\"", english);
        Assert.Contains("{sender}, {privacy}", english);
    }

    [Fact]
    public async Task The_settings_show_the_final_length_with_sender_privacy_link_and_a_real_length_link_C41()
    {
        var newsletter = await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var page = await admin.GetStringAsync($"/admin/newsletters/edit/{newsletter.Id}");
        var expected = NewsletterService.DefaultInvitation
            .Replace("{name}", "Anna").Replace("{sender}", Sender).Replace("{privacy}", LegalIdentity.PrivacyUrl)
            .Replace("{link}", "http://localhost/i/" + new string('x', 43)).Length;
        Assert.Contains($"{expected} Zeichen", page);
        // A real message for a contact called Anna has exactly this length.
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"));
        var contact = await _app.WithDbAsync(db => db.Contacts.SingleAsync());
        var stored = await _app.WithDbAsync(db => db.Newsletters.SingleAsync());
        Assert.Equal(expected, _app.Service<InvitationLinks>().Message(stored, contact).Length);
    }

    [Fact]
    public async Task The_Cloud_API_page_says_what_the_approved_template_must_say_and_which_parameters_go_in_C41()
    {
        var newsletter = await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var page = WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/whatsapp/{newsletter.Id}"));
        Assert.Contains("{{1}}", page);
        Assert.Contains("persönlicher Link", page);
        var body = Regex.Match(page, "<pre[^>]*id=\"whatsapp-template-body\">([^<]*)</pre>").Groups[1].Value;
        // With the default parameter list (the link only), sender and privacy link are written into the body.
        Assert.StartsWith($"Hallo, hier schreibt {Sender}.", body);
        Assert.Contains("weiter: {{1}}", body);
        Assert.Contains($"Datenschutz: {LegalIdentity.PrivacyUrl}", body);
        Assert.Contains("Antworten Sie STOP", body);
        Assert.Contains("sagen, wie man widerspricht", page);
    }

    [Fact]
    public void A_shared_template_takes_sender_link_and_privacy_as_numbered_parameters_C41()
    {
        var newsletter = new Newsletter { Slug = "x", Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "a@example.test" }.Complete();
        var parameters = WhatsAppTemplate.Parameters(" Sender, link ,PRIVACY");
        Assert.Equal(["sender", "link", "privacy"], parameters);
        Assert.Equal([Sender, "https://x.example.test/i/t", LegalIdentity.PrivacyUrl],
            WhatsAppTemplate.Values(parameters, InvitationSender.Of(newsletter), "https://x.example.test/i/t"));
        var body = WhatsAppTemplate.SuggestedBody(parameters, newsletter, "en");
        Assert.StartsWith("Hello, this is {{1}}.", body);
        Assert.Contains("sign up here: {{2}}", body);
        Assert.Contains("Privacy: {{3}}", body);
        Assert.DoesNotContain(LegalIdentity.PrivacyUrl, body);
    }
}
