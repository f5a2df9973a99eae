using System.Net;
using System.Text.RegularExpressions;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Issue 17, point 5: the consent page as a reader on a phone meets it, and what it says after the sign-up.</summary>
public sealed class ConsentPagePolishTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public async Task InitializeAsync() => await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task The_address_field_gives_phones_the_email_keyboard_and_autofill()
    {
        var html = await _app.ReaderClient().GetStringAsync("/n/eilmeldungen");
        var field = Regex.Match(html, "<input[^>]*name=\"Input.Email\"[^>]*>").Value;
        Assert.Contains("type=\"email\"", field);
        Assert.Contains("autocomplete=\"email\"", field);
        Assert.Contains("inputmode=\"email\"", field);
    }

    [Fact]
    public async Task After_the_sign_up_the_page_names_the_sender_and_subject_of_the_mail_to_look_for_in_German()
    {
        var reader = _app.ReaderClient();
        var page = await (await reader.SignUpAsync("neu@example.test")).Content.ReadAsStringAsync();
        var mail = await _app.Smtp.WaitForAsync("neu@example.test", "bestätigen");

        var text = CheckMailText(page);
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", text);
        Assert.Contains("Wir haben Ihnen eine E-Mail von Tagblatt (newsletter@tagblatt.example.test) geschickt", text);
        Assert.Contains("Klicken Sie auf den Link darin, um die Anmeldung zu bestätigen.", text);
        Assert.Contains("Spam-Ordner", text);
        // Exactly what the reader's inbox shows: the mail's sender and its subject.
        var from = mail.From.Mailboxes.Single();
        Assert.Contains($"{from.Name} ({from.Address})", text);
        Assert.Contains($"„{mail.Subject}“", text);
    }

    [Fact]
    public async Task After_the_sign_up_the_page_names_the_sender_and_subject_of_the_mail_to_look_for_in_English()
    {
        var reader = _app.ReaderClient("en");
        var page = await (await reader.SignUpAsync("new@example.test")).Content.ReadAsStringAsync();
        var mail = await _app.Smtp.WaitForAsync("new@example.test", "confirm");

        var text = CheckMailText(page);
        Assert.Contains("please check your inbox", text);
        Assert.Contains("We have sent you an email from Tagblatt (newsletter@tagblatt.example.test)", text);
        Assert.Contains($"subject \"{mail.Subject}\"", text);
        Assert.Contains("Click the link in it to confirm your subscription.", text);
        Assert.Contains("spam folder", text);
    }

    [Fact]
    public async Task The_page_after_the_sign_up_says_the_same_for_a_new_and_a_confirmed_address_C30()
    {
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", "bestaetigt@example.test");

        var confirmed = await (await _app.ReaderClient().SignUpAsync("bestaetigt@example.test")).Content.ReadAsStringAsync();
        var fresh = await (await _app.ReaderClient().SignUpAsync("ganz-neu@example.test")).Content.ReadAsStringAsync();

        Assert.Contains("Tagblatt (newsletter@tagblatt.example.test)", CheckMailText(fresh));
        Assert.Equal(Answer(fresh), Answer(confirmed));
    }

    /// <summary>The answer's section as the reader reads it.</summary>
    private static string Answer(string html) =>
        Regex.Match(html, "<section class=\"card shadow-sm\" aria-live=\"polite\">.*?</section>", RegexOptions.Singleline).Value;

    private static string CheckMailText(string html) =>
        WebUtility.HtmlDecode(Regex.Replace(Answer(html), "<[^>]+>", " "));
}
