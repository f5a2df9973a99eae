using System.Security.Cryptography;
using MimeKit;
using MimeKit.Cryptography;
using NewsletterMigrator.Testing;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace NewsletterMigrator.Tests;

public sealed class DkimTests
{
    private const string Subject = "Eilmeldung mit Signatur";

    /// <summary>An app that signs with <paramref name="rsa"/> (written as a PEM key file) for tagblatt.example.test.</summary>
    private static async Task<AppFactory> SigningAppAsync(RSA rsa, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dkim:Domain"] = "tagblatt.example.test",
            ["Dkim:Selector"] = "nl2026",
        };
        foreach (var (key, value) in more) settings[key] = value;
        var app = new AppFactory(settings: settings);
        // In the app's data folder, which the factory deletes: no private key is left behind in /tmp.
        var keyFile = Path.Combine(app.DataDirectory, "dkim.pem");
        await File.WriteAllTextAsync(keyFile, rsa.ExportRSAPrivateKeyPem());
        app.Settings["Dkim:PrivateKeyPath"] = keyFile; // read when the host starts, on first use
        return app;
    }

    [Fact]
    public async Task Newsletter_is_dkim_signed_over_the_list_unsubscribe_headers_and_verifies_C24_C21()
    {
        using var rsa = RSA.Create(2048);
        await using var app = await SigningAppAsync(rsa);
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");

        await app.CampaignAsync(newsletter, Subject, "Eine Zeile mit Umlauten: äöü – und ein [Link](https://tagblatt.example.test/artikel).");
        var mail = await app.Smtp.WaitForAsync("leserin@example.test", Subject);

        var signature = mail.Headers[HeaderId.DkimSignature];
        Assert.NotNull(signature);
        Assert.Contains("d=tagblatt.example.test", signature);
        Assert.Contains("s=nl2026", signature);
        var signed = System.Text.RegularExpressions.Regex.Match(signature.Replace(" ", "").Replace("\t", "").Replace("\r\n", ""), @"h=([^;]+)").Groups[1].Value
            .Split(':').Select(h => h.ToLowerInvariant()).ToHashSet();
        foreach (var header in new[] { "from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post" })
            Assert.Contains(header, signed);

        var verifier = new DkimVerifier(new TestKeyLocator(PublicKeyFactory.CreateKey(rsa.ExportSubjectPublicKeyInfo())));
        Assert.True(await verifier.VerifyAsync(mail, mail.Headers[mail.Headers.IndexOf(HeaderId.DkimSignature)]));

        // A receiver would notice any change to a signed header.
        mail.Headers[HeaderId.ListUnsubscribe] = "<https://evil.example.test/u/x>";
        Assert.False(await verifier.VerifyAsync(mail, mail.Headers[mail.Headers.IndexOf(HeaderId.DkimSignature)]));
    }

    [Fact]
    public async Task With_an_unsubscribe_mailbox_the_signed_list_unsubscribe_header_offers_https_first_then_mailto_C21_C24()
    {
        using var rsa = RSA.Create(2048);
        await using var app = await SigningAppAsync(rsa, ("Sending:UnsubscribeMailbox", "abmelden@tagblatt.example.test"));
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");

        await app.CampaignAsync(newsletter, Subject);
        var mail = await app.Smtp.WaitForAsync("leserin@example.test", Subject);

        var header = mail.Headers[HeaderId.ListUnsubscribe]!;
        var match = System.Text.RegularExpressions.Regex.Match(header,
            "^<http://localhost/u/(?<token>[A-Za-z0-9_-]{43})>, <mailto:abmelden@tagblatt\\.example\\.test\\?subject=unsubscribe-(?<again>[A-Za-z0-9_-]{43})>$");
        Assert.True(match.Success, header);
        Assert.Equal(match.Groups["token"].Value, match.Groups["again"].Value);
        Assert.Equal("List-Unsubscribe=One-Click", mail.Headers[HeaderId.ListUnsubscribePost]);

        // The https link in the header is the reader's real one: it unsubscribes per RFC 8058.
        var response = await app.CreateClient().PostAsync($"/u/{match.Groups["token"].Value}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);

        var verifier = new DkimVerifier(new TestKeyLocator(PublicKeyFactory.CreateKey(rsa.ExportSubjectPublicKeyInfo())));
        Assert.True(await verifier.VerifyAsync(mail, mail.Headers[mail.Headers.IndexOf(HeaderId.DkimSignature)]));
        // Dropping the mailto (or changing it) breaks the signature: it is covered by h=.
        mail.Headers[HeaderId.ListUnsubscribe] = $"<http://localhost/u/{match.Groups["token"].Value}>";
        Assert.False(await verifier.VerifyAsync(mail, mail.Headers[mail.Headers.IndexOf(HeaderId.DkimSignature)]));
    }

    /// <summary>Stands in for the DNS TXT lookup at selector._domainkey.domain: returns the test key.</summary>
    private sealed class TestKeyLocator(AsymmetricKeyParameter key) : IDkimPublicKeyLocator
    {
        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            domain == "tagblatt.example.test" && selector == "nl2026" ? key : throw new InvalidOperationException($"no key for {selector}._domainkey.{domain}");

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(LocatePublicKey(methods, domain, selector, cancellationToken));
    }
}
