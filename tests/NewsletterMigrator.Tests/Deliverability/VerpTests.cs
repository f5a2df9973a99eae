using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Testing;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Security;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>Issue 16.1: every outbox mail carries a return path that names its row, and only the envelope changes.</summary>
public sealed class VerpTests
{
    private const string Domain = "bounces.tagblatt.example.test";
    private static readonly Regex ReturnPath = new(@"^bounce\+[0-9a-z]{21,39}@bounces\.tagblatt\.example\.test$");

    [Fact]
    public void Sending_uses_nothing_of_Deliverability_it_asks_for_return_paths_through_an_interface_of_its_own()
    {
        // ARCHITECTURE.md "arrows point down": Sending is infrastructure, the features plug into its interfaces.
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        var sending = typeof(DeliveryWorker).Assembly.GetTypes().Where(t => t.Namespace == typeof(DeliveryWorker).Namespace).ToList();
        var used = sending.SelectMany(t => t.GetConstructors(all).SelectMany(c => c.GetParameters()).Select(p => p.ParameterType)
            .Concat(t.GetFields(all).Select(f => f.FieldType)));
        Assert.DoesNotContain(used, type => type.Namespace == typeof(VerpAddress).Namespace);
    }

    [Fact]
    public async Task Every_mail_to_a_reader_goes_out_with_its_own_return_path_that_names_its_outbox_row()
    {
        await using var app = new AppFactory(settings: new() { ["Bounces:ReturnPathDomain"] = Domain });
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "anna@example.test", "bert@example.test");
        await app.CampaignAsync(newsletter, "Mit Rückweg");
        await app.OutboxIdleAsync();

        var rows = await app.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Where(m => m.Status == MessageStatus.Sent).ToListAsync());
        Assert.Equal(4, rows.Count); // two DOI mails, two campaign mails
        var verp = app.Service<VerpAddress>();
        var senders = new HashSet<string>();
        foreach (var mail in app.Smtp.Messages)
        {
            var envelope = app.Smtp.EnvelopeSender(mail);
            Assert.Matches(ReturnPath, envelope);
            Assert.True(senders.Add(envelope), "each mail has its own return path");
            var row = rows.Single(r => r.Id == verp.TryRead(envelope));
            Assert.Equal(row.MessageId, mail.MessageId);
            // The From the reader sees is the newsletter's, as before.
            Assert.Equal("newsletter@tagblatt.example.test", mail.From.Mailboxes.Single().Address);
        }
    }

    [Fact]
    public async Task Without_a_return_path_domain_the_envelope_sender_stays_the_newsletter_sender()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "anna@example.test");
        var mail = Assert.Single(app.Smtp.Messages);
        Assert.Equal("newsletter@tagblatt.example.test", app.Smtp.EnvelopeSender(mail));
    }

    [Fact]
    public async Task Only_the_envelope_changes_DKIM_signature_and_List_Unsubscribe_are_identical_with_and_without_VERP_C24_C21()
    {
        using var rsa = RSA.Create(2048);
        var settings = new Dictionary<string, string?>
        {
            ["Bounces:ReturnPathDomain"] = Domain,
            ["Dkim:Domain"] = "tagblatt.example.test",
            ["Dkim:Selector"] = "nl2026",
            ["Sending:UnsubscribeMailbox"] = "abmelden@tagblatt.example.test",
        };
        await using var app = new AppFactory(settings: settings);
        var keyFile = Path.Combine(app.DataDirectory, "dkim.pem");
        await File.WriteAllTextAsync(keyFile, rsa.ExportRSAPrivateKeyPem());
        app.Settings["Dkim:PrivateKeyPath"] = keyFile;
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "anna@example.test");
        await app.CampaignAsync(newsletter, "Signiert");
        var sent = await app.Smtp.WaitForAsync("anna@example.test", "Signiert");
        var verifier = new DkimVerifier(new TestKeyLocator(PublicKeyFactory.CreateKey(rsa.ExportSubjectPublicKeyInfo())));
        Assert.Matches(ReturnPath, app.Smtp.EnvelopeSender(sent));
        Assert.True(await verifier.VerifyAsync(sent, sent.Headers[sent.Headers.IndexOf(HeaderId.DkimSignature)]));

        // The same signed message through the same transport, once with the row's return path and once without.
        var row = await app.WithDbAsync(db => db.OutboundMessages.AsNoTracking().SingleAsync(m => m.MessageId == sent.MessageId));
        await using var transport = new SmtpTransport(app.Service<IOptions<SmtpOptions>>().Value);
        var withVerp = await SendCopyAsync(app, transport, sent, app.Service<VerpAddress>().For(row.Id), "mit VERP");
        var without = await SendCopyAsync(app, transport, sent, null, "ohne VERP");

        Assert.Equal(app.Smtp.EnvelopeSender(sent), app.Smtp.EnvelopeSender(withVerp));
        Assert.Equal("newsletter@tagblatt.example.test", app.Smtp.EnvelopeSender(without));
        foreach (var header in new[] { HeaderId.DkimSignature, HeaderId.ListUnsubscribe, HeaderId.ListUnsubscribePost, HeaderId.From, HeaderId.ReplyTo, HeaderId.Sender })
        {
            Assert.Equal(sent.Headers[header], withVerp.Headers[header]);
            Assert.Equal(sent.Headers[header], without.Headers[header]);
        }
        Assert.True(await verifier.VerifyAsync(withVerp, withVerp.Headers[withVerp.Headers.IndexOf(HeaderId.DkimSignature)]));
    }

    private static async Task<MimeMessage> SendCopyAsync(AppFactory app, SmtpTransport transport, MimeMessage signed, MailboxAddress? envelope, string marker)
    {
        using var buffer = new MemoryStream();
        await signed.WriteToAsync(buffer);
        buffer.Position = 0;
        var copy = await MimeMessage.LoadAsync(buffer);
        // Told apart by a header outside the signature, which a relay could add just as well.
        copy.Headers.Add("X-Test-Copy", marker);
        var result = await transport.SendAsync(copy, envelope, CancellationToken.None);
        Assert.Equal(DeliveryOutcome.Sent, result.Outcome);
        return await app.Smtp.WaitForAsync(m => m.Headers["X-Test-Copy"] == marker);
    }

    [Fact]
    public void A_token_names_its_row_only_with_its_own_HMAC_and_survives_case_folding()
    {
        var verp = Verp(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var address = verp.For(4711)!.Address;
        Assert.Matches(ReturnPath, address);
        Assert.True(address.IndexOf('@') < 64);
        Assert.Equal(4711, verp.TryRead(address));
        Assert.Equal(4711, verp.TryRead("<" + address.ToUpperInvariant() + ">"));
        Assert.Equal(long.MaxValue, verp.TryRead(verp.For(long.MaxValue)!.Address));

        var token = verp.Token(4711);
        var mac = token[4..];
        Assert.Null(verp.TryRead($"bounce+4712{mac}@{Domain}"));                      // another row with this row's MAC
        Assert.Null(verp.TryRead($"bounce+4711{Flip(mac)}@{Domain}"));                // a MAC changed by one character
        Assert.Null(verp.TryRead($"bounce+{token}0@{Domain}"));                        // shifted
        Assert.Null(verp.TryRead($"other+{token}@{Domain}"));                          // not our local part
        Assert.Null(Verp(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).TryRead(address)); // another installation's key
    }

    private static string Flip(string mac) => (mac[0] == 'a' ? 'b' : 'a') + mac[1..];

    private static VerpAddress Verp(string masterKey) =>
        new(new KeyRing(Convert.FromBase64String(masterKey)), Options.Create(new BouncesOptions { ReturnPathDomain = Domain }));

    [Theory]
    [InlineData("bounce+x", null)]
    [InlineData("bounce box", null)]
    [InlineData("", null)]
    [InlineData("a-very-long-local-part-that-leaves-no-room", null)]
    [InlineData("bounce", "not a host")]
    [InlineData("bounce", "localhost")]
    public void Start_up_refuses_a_return_path_that_cannot_carry_the_token_naming_the_key(string localPart, string? domain)
    {
        var result = new ReturnPathOptionsValidator().Validate(null, new BouncesOptions { ReturnPathLocalPart = localPart, ReturnPathDomain = domain });
        Assert.True(result.Failed);
        Assert.Contains(domain is null ? "Bounces:ReturnPathLocalPart" : "Bounces:ReturnPathDomain", result.FailureMessage);
    }

    [Fact]
    public void The_feature_registers_the_check_so_a_plus_in_the_local_part_stops_start_up()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Bounces:ReturnPathLocalPart"] = "bounce+x", ["Bounces:ReturnPathDomain"] = Domain }).Build();
        using var services = new ServiceCollection().AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(configuration).AddDeliverability().BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<BouncesOptions>>().Value);
        Assert.Contains("Bounces:ReturnPathLocalPart", error.Message);
    }

    private sealed class TestKeyLocator(AsymmetricKeyParameter key) : IDkimPublicKeyLocator
    {
        public AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) => key;

        public Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(key);
    }
}
