using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16.2, C37: what a report from the bounce mailbox does. Each test sends real mail through the test SMTP server,
/// reads the return path the mail went out with, builds the report a provider's DSN to that address would give, and
/// looks at what a person sees afterwards: the reader's status, the suppression, the campaign's state, the ledger.
/// </summary>
public sealed class ReportEffectsTests
{
    private const string Domain = "bounces.tagblatt.example.test";

    private static AppFactory VerpApp() => new(settings: new() { ["Bounces:ReturnPathDomain"] = Domain });

    /// <summary>The campaign mail the reader got, and the return path it came with.</summary>
    private static async Task<(MimeMessage Mail, string ReturnPath)> ReceivedAsync(AppFactory app, string reader, string subject)
    {
        var mail = await app.Smtp.WaitForAsync(reader, subject);
        return (mail, app.Smtp.EnvelopeSender(mail));
    }

    private static async Task<ReportEffect> ApplyAsync(AppFactory app, ClassifiedReport report, DateTime? reportedAtUtc = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ReportEffects>().ApplyAsync(report, reportedAtUtc);
    }

    private static Task<Subscriber> ReaderAsync(AppFactory app, string email, int? newsletterId = null) => app.WithDbAsync(db =>
        db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == email && (newsletterId == null || s.NewsletterId == newsletterId)));

    private static Task<bool> SuppressedAsync(AppFactory app, string email) => app.WithDbAsync(db =>
    {
        var hash = SuppressionHash.Email(app.Service<KeyRing>(), email);
        return db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Email && s.Hash == hash);
    });

    private static async Task SignedUpAsync(AppFactory app, Newsletter newsletter, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var text = (await scope.ServiceProvider.GetRequiredService<Consent.ConsentTextService>().ForReaderAsync(newsletter, "de"))!;
        await scope.ServiceProvider.GetRequiredService<Consent.SignUpService>()
            .SignUpAsync(new Consent.SignUpRequest(newsletter, text, email, "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true });
    }

    private static ClassifiedReport Dsn(ReportKind kind, string recipient, string status, string returnPath, string? diagnostic = null) =>
        new(kind, recipient, status, diagnostic ?? $"smtp; 550 {status} <{recipient}>: Recipient address rejected", Addressees: [returnPath]);

    [Fact]
    public async Task A_hard_bounce_to_the_return_path_marks_the_reader_bounced_suppresses_the_address_and_the_next_campaign_skips_it_C37()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "weg@example.test", "da@example.test");
        var campaignId = await app.CampaignAsync(newsletter, "Erste Ausgabe");
        var (mail, returnPath) = await ReceivedAsync(app, "weg@example.test", "Erste Ausgabe");

        var effect = await ApplyAsync(app, Dsn(ReportKind.HardBounce, "weg@example.test", "5.1.1", returnPath));

        Assert.Equal(ReportKind.HardBounce, effect.Kind);
        Assert.DoesNotContain("@", effect.Outcome);
        Assert.Contains("5.1.1", effect.Outcome);
        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "weg@example.test")).Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "da@example.test")).Status);
        Assert.True(await SuppressedAsync(app, "weg@example.test"));
        var recorded = await app.WithDbAsync(db => db.DeliveryEvents.AsNoTracking().SingleAsync());
        var row = await app.WithDbAsync(db => db.OutboundMessages.AsNoTracking().SingleAsync(m => m.MessageId == mail.MessageId));
        Assert.Equal((DeliveryEventKind.HardBounce, "mailbox", "5.1.1", campaignId, row.Id, newsletter.Id), (recorded.Kind, recorded.Source, recorded.StatusCode, recorded.CampaignId, recorded.OutboundMessageId, recorded.NewsletterId));
        Assert.Equal(SuppressionHash.Email(app.Service<KeyRing>(), "weg@example.test"), recorded.EmailHash);

        await app.OutboxIdleAsync();
        await app.CampaignAsync(newsletter, "Zweite Ausgabe");
        await app.Smtp.WaitForAsync("da@example.test", "Zweite Ausgabe");
        await app.OutboxIdleAsync();
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Subject == "Zweite Ausgabe" && m.To.Mailboxes.Single().Address == "weg@example.test");
    }

    [Fact]
    public async Task Refusals_of_our_sender_reported_by_mail_pause_the_campaign_only_once_several_mails_were_refused_and_never_suppress_C37()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        string[] readers = ["anna@example.test", "bert@example.test", "carl@example.test"];
        await app.ConfirmedReadersAsync(newsletter, [.. readers, "spaeter@example.test"]);
        // One reader's server defers the mail, so the campaign is still sending when the reports come.
        app.Smtp.Refuse["spaeter@example.test"] = TestSmtpServer.Reply(451, "4.3.0 try again later");
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        var paths = new List<string>();
        foreach (var reader in readers) paths.Add((await ReceivedAsync(app, reader, "Ausgabe")).ReturnPath);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaignId)).Status);
        ClassifiedReport Refusal(int i) => Dsn(ReportKind.SenderProblem, readers[i], "5.7.1", paths[i],
            $"smtp; 550 5.7.1 Message rejected for {readers[i]}: sender domain has no SPF or DKIM alignment");

        // Anyone can write reports to the return path of their own mail: however many, they are one mail's refusal.
        for (var i = 0; i < 4; i++) Assert.Equal(ReportKind.SenderProblem, (await ApplyAsync(app, Refusal(0))).Kind);
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaignId)).Status);
        await ApplyAsync(app, Refusal(1));
        Assert.Equal(CampaignStatus.Sending, (await app.CampaignRowAsync(campaignId)).Status);
        var effect = await ApplyAsync(app, Refusal(2));

        Assert.Equal(ReportKind.SenderProblem, effect.Kind);
        Assert.Contains("campaign paused", effect.Outcome);
        foreach (var reader in readers)
        {
            Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, reader)).Status);
            Assert.False(await SuppressedAsync(app, reader));
        }
        var campaign = await app.CampaignRowAsync(campaignId);
        Assert.Equal(CampaignStatus.Paused, campaign.Status);
        Assert.Contains("5.7.1", campaign.PauseReason);
        Assert.Contains("sender refused", campaign.PauseReason);
        Assert.DoesNotContain(readers[2], campaign.PauseReason);
        Assert.Equal(3, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync(e => e.Kind == DeliveryEventKind.SenderRefusal)));
        app.Smtp.Refuse.Clear();
    }

    [Fact]
    public async Task The_same_mail_reported_again_in_other_words_counts_once()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "weg@example.test", "genervt@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, bouncedPath) = await ReceivedAsync(app, "weg@example.test", "Ausgabe");
        var (_, complainerPath) = await ReceivedAsync(app, "genervt@example.test", "Ausgabe");

        // A relay and the final server both bounce the mail.
        await ApplyAsync(app, Dsn(ReportKind.HardBounce, "weg@example.test", "5.1.1", bouncedPath));
        var again = await ApplyAsync(app, Dsn(ReportKind.HardBounce, "weg@example.test", "5.1.1", bouncedPath, "x-postfix; host mx.example.test said: 550 5.1.1 no such user"));
        // A reader sends complaint after complaint about their own mail, each with other bytes.
        for (var i = 0; i < 5; i++)
            await ApplyAsync(app, new ClassifiedReport(ReportKind.Complaint, "genervt@example.test", Addressees: [complainerPath], FeedbackType: i % 2 == 0 ? "abuse" : "fraud"));

        Assert.Equal(ReportKind.HardBounce, again.Kind);
        Assert.Contains("already", again.Outcome);
        Assert.Equal(1, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync(e => e.Kind == DeliveryEventKind.HardBounce)));
        Assert.Equal(1, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync(e => e.Kind == DeliveryEventKind.Complaint)));
    }

    [Fact]
    public async Task A_complaint_about_a_test_mail_ends_no_subscription_and_is_left_for_a_person()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "redakteurin@example.test");
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        await app.Smtp.WaitForAsync("redakteurin@example.test", "Ausgabe");
        await app.OutboxIdleAsync();
        // An editor who also reads the newsletter gets the campaign's test mail at the same address.
        var now = DateTime.UtcNow;
        var testMail = new OutboundMessage
        {
            Kind = MessageKind.Test, Status = MessageStatus.Sent, NewsletterId = newsletter.Id, CampaignId = campaignId, SubscriberId = null,
            ToAddress = "redakteurin@example.test", MessageId = $"{Guid.NewGuid():N}@tagblatt.example.test", CreatedAtUtc = now, NextAttemptAtUtc = now, SentAtUtc = now,
        };
        await app.WithDbAsync(async db => { db.OutboundMessages.Add(testMail); return await db.SaveChangesAsync(); });

        var effect = await ApplyAsync(app, new ClassifiedReport(ReportKind.Complaint, "redakteurin@example.test", OriginalMessageId: testMail.MessageId, FeedbackType: "abuse"));

        Assert.Equal(ReportKind.Unknown, effect.Kind);
        Assert.Equal(testMail.Id, effect.OutboundMessageId);
        Assert.Contains("left for a person", effect.Outcome);
        Assert.DoesNotContain("@", effect.Outcome);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "redakteurin@example.test")).Status);
        Assert.False(await SuppressedAsync(app, "redakteurin@example.test"));
        Assert.False(await app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.Withdrawn)));
    }

    [Fact]
    public async Task A_hard_bounce_ends_the_address_in_every_newsletter_so_no_other_campaign_goes_to_it_C37()
    {
        await using var app = VerpApp();
        var eilmeldungen = await app.NewsletterAsync();
        var sport = await app.NewsletterAsync("sport");
        await SignedUpAsync(app, sport, "weg@example.test");
        await SignedUpAsync(app, sport, "da@example.test");
        await app.ConfirmedReadersAsync(eilmeldungen, "weg@example.test", "da@example.test"); // confirms both newsletters
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "weg@example.test", sport.Id)).Status);
        await app.CampaignAsync(eilmeldungen, "Tagesausgabe");
        var (_, returnPath) = await ReceivedAsync(app, "weg@example.test", "Tagesausgabe");
        await app.OutboxIdleAsync();

        await ApplyAsync(app, Dsn(ReportKind.HardBounce, "weg@example.test", "5.1.1", returnPath));

        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "weg@example.test", eilmeldungen.Id)).Status);
        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "weg@example.test", sport.Id)).Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "da@example.test", sport.Id)).Status);
        await app.CampaignAsync(sport, "Sportausgabe");
        await app.Smtp.WaitForAsync("da@example.test", "Sportausgabe");
        await app.OutboxIdleAsync();
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Subject == "Sportausgabe" && m.To.Mailboxes.Single().Address == "weg@example.test");
    }

    [Fact]
    public async Task A_bounce_naming_another_recipient_than_the_mail_went_to_is_left_for_a_person_and_the_reader_keeps_the_address()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "weiterleitung@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, returnPath) = await ReceivedAsync(app, "weiterleitung@example.test", "Ausgabe");

        // The reader forwards to another mailbox (without SRS); that one no longer exists and bounces to our return path.
        var effect = await ApplyAsync(app, Dsn(ReportKind.HardBounce, "alt@anderswo.example.test", "5.1.1", returnPath));

        Assert.Equal(ReportKind.Unknown, effect.Kind);
        Assert.Contains("left for a person", effect.Outcome);
        Assert.DoesNotContain("@", effect.Outcome);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "weiterleitung@example.test")).Status);
        Assert.False(await SuppressedAsync(app, "weiterleitung@example.test"));
        Assert.Equal(0, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync()));

        // The reader's own address written otherwise still counts, and so does a complaint whose recipient the loop redacted.
        Assert.Equal(ReportKind.SoftBounce, (await ApplyAsync(app, Dsn(ReportKind.SoftBounce, "Weiterleitung@EXAMPLE.test", "4.2.2", returnPath))).Kind);
        Assert.Equal(ReportKind.Complaint, (await ApplyAsync(app, new ClassifiedReport(ReportKind.Complaint, null, Addressees: [returnPath], FeedbackType: "abuse"))).Kind);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await ReaderAsync(app, "weiterleitung@example.test")).Status);
    }

    [Fact]
    public async Task Other_refusals_and_exhausted_retries_while_sending_are_recorded_as_soft_bounces_and_suppress_nothing_C37()
    {
        // Nothing is retried: a deferral fails for good at once, as it would after days of retrying.
        await using var app = new AppFactory(settings: new() { ["Sending:GiveUpAfter"] = "00:00:00" });
        var newsletter = await app.NewsletterAsync();
        string[] readers = ["voll@example.test", "inhalt@example.test", "spaeter@example.test"];
        await app.ConfirmedReadersAsync(newsletter, [.. readers, "da@example.test"]);
        app.Smtp.RefuseAtRcpt["voll@example.test"] = TestSmtpServer.Reply(552, "5.2.2 mailbox full");
        app.Smtp.Refuse["inhalt@example.test"] = TestSmtpServer.Reply(554, "5.6.0 message content rejected");
        app.Smtp.Refuse["spaeter@example.test"] = TestSmtpServer.Reply(451, "4.3.0 try again later");
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        await app.Smtp.WaitForAsync("da@example.test", "Ausgabe");
        await app.OutboxIdleAsync();

        var recorded = await app.WithDbAsync(db => db.DeliveryEvents.AsNoTracking().ToListAsync());
        Assert.Equal(["4.3.0", "5.2.2", "5.6.0"], recorded.Select(e => e.StatusCode).Order());
        Assert.All(recorded, e => Assert.Equal((DeliveryEventKind.SoftBounce, "smtp", (int?)campaignId), (e.Kind, e.Source, e.CampaignId)));
        foreach (var reader in readers)
        {
            Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, reader)).Status);
            Assert.False(await SuppressedAsync(app, reader));
        }
        app.Smtp.Refuse.Clear();
        app.Smtp.RefuseAtRcpt.Clear();
    }

    [Fact]
    public async Task Soft_bounces_suppress_only_once_they_happened_on_three_separate_days_within_30_C37()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "voll@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, returnPath) = await ReceivedAsync(app, "voll@example.test", "Ausgabe");
        var full = Dsn(ReportKind.SoftBounce, "voll@example.test", "5.2.2", returnPath, "smtp; 552 5.2.2 Mailbox full");
        // 30 hours apart: always separate Berlin days, summer time or not.
        var now = DateTime.UtcNow;
        var first = now.AddHours(-60);

        await ApplyAsync(app, full, first);
        await ApplyAsync(app, full, first); // the same day again
        await ApplyAsync(app, full with { StatusCode = "4.2.2" }, now.AddHours(-30));
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "voll@example.test")).Status);
        Assert.False(await SuppressedAsync(app, "voll@example.test"));

        var third = await ApplyAsync(app, full, now);
        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "voll@example.test")).Status);
        Assert.True(await SuppressedAsync(app, "voll@example.test"));
        Assert.Contains("treated as hard", third.Outcome);
        // The second report on the first day was the same mail's again: one event per mail and day.
        Assert.Equal(3, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync(e => e.Kind == DeliveryEventKind.SoftBounce)));
    }

    [Fact]
    public async Task Soft_bounces_older_than_the_window_do_not_count_C37()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "voll@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, returnPath) = await ReceivedAsync(app, "voll@example.test", "Ausgabe");
        var full = Dsn(ReportKind.SoftBounce, "voll@example.test", "4.2.2", returnPath);
        await ApplyAsync(app, full, DateTime.UtcNow.AddDays(-29).AddHours(-20));
        // Recorded 29 days ago, now beyond the window: a report read today counts two days, not three.
        await app.WithDbAsync(db => db.DeliveryEvents.ExecuteUpdateAsync(u => u.SetProperty(e => e.AtUtc, DateTime.UtcNow.AddDays(-31))));
        await ApplyAsync(app, full, DateTime.UtcNow.AddHours(-30));
        await ApplyAsync(app, full, DateTime.UtcNow);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "voll@example.test")).Status);
    }

    [Fact]
    public async Task A_complaint_ends_every_subscription_of_the_address_counted_against_the_campaign_and_suppresses_it()
    {
        await using var app = VerpApp();
        var eilmeldungen = await app.NewsletterAsync();
        var sport = await app.NewsletterAsync("sport");
        await app.ConfirmedReadersAsync(eilmeldungen, "genervt@example.test");
        await SignedUpAsync(app, sport, "genervt@example.test"); // pending there: a complaint ends that too
        var campaignId = await app.CampaignAsync(eilmeldungen, "Ausgabe");
        var (mail, _) = await ReceivedAsync(app, "genervt@example.test", "Ausgabe");
        await app.OutboxIdleAsync();

        // A feedback loop's ARF report: it names the original message, not our return path.
        var effect = await ApplyAsync(app, new ClassifiedReport(ReportKind.Complaint, "genervt@example.test", OriginalMessageId: $"<{mail.MessageId}>", FeedbackType: "abuse"));

        Assert.Equal(ReportKind.Complaint, effect.Kind);
        Assert.DoesNotContain("@", effect.Outcome);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await ReaderAsync(app, "genervt@example.test", eilmeldungen.Id)).Status);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await ReaderAsync(app, "genervt@example.test", sport.Id)).Status);
        Assert.True(await SuppressedAsync(app, "genervt@example.test"));
        var withdrawals = await app.WithDbAsync(db => db.ConsentEvents.AsNoTracking().Where(e => e.Kind == ConsentEventKind.Withdrawn).ToListAsync());
        Assert.All(withdrawals, w => Assert.Equal(WithdrawalChannel.Complaint, w.Channel));
        Assert.Equal(campaignId, withdrawals.Single(w => w.NewsletterId == eilmeldungen.Id).CampaignId);
        Assert.Equal(2, withdrawals.Count);
        Assert.Null(withdrawals.Single(w => w.NewsletterId == sport.Id).CampaignId); // no campaign of that newsletter reached the reader
        Assert.Equal(DeliveryEventKind.Complaint, (await app.WithDbAsync(db => db.DeliveryEvents.AsNoTracking().SingleAsync())).Kind);
    }

    [Fact]
    public async Task A_mail_to_the_unsubscribe_address_unsubscribes_by_its_token_whatever_the_sender_claims_C12_C44()
    {
        await using var app = new AppFactory(settings: new() { ["Sending:UnsubscribeMailbox"] = "abmelden@tagblatt.example.test" });
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test", "andere@example.test");
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        var mail = await app.Smtp.WaitForAsync("leserin@example.test", "Ausgabe");
        await app.OutboxIdleAsync();
        var token = System.Text.RegularExpressions.Regex.Match(mail.Headers[HeaderId.ListUnsubscribe]!, "subject=unsubscribe-([A-Za-z0-9_-]{43})").Groups[1].Value;

        // Sent from another address (a forwarding account): the token decides.
        var effect = await ApplyAsync(app, new ClassifiedReport(ReportKind.Unsubscribe, "jemand@example.test", UnsubscribeToken: token));

        Assert.Equal(ReportKind.Unsubscribe, effect.Kind);
        Assert.Equal(SubscriberStatus.Unsubscribed, (await ReaderAsync(app, "leserin@example.test")).Status);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "andere@example.test")).Status);
        var withdrawal = await app.WithDbAsync(db => db.ConsentEvents.AsNoTracking().SingleAsync(e => e.Kind == ConsentEventKind.Withdrawn));
        Assert.Equal((WithdrawalChannel.Mailto, campaignId), (withdrawal.Channel, withdrawal.CampaignId));
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("test")]
    [InlineData(null)]
    public async Task An_unsubscribe_mail_without_a_valid_token_changes_nothing_and_is_left_for_a_person_C44(string? token)
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");

        var effect = await ApplyAsync(app, new ClassifiedReport(ReportKind.Unsubscribe, "leserin@example.test", UnsubscribeToken: token));

        Assert.Equal(ReportKind.Unknown, effect.Kind);
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "leserin@example.test")).Status);
    }

    [Fact]
    public async Task A_bounce_with_a_forged_return_path_token_changes_nothing_even_when_it_names_a_reader()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "anna@example.test", "opfer@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, annasPath) = await ReceivedAsync(app, "anna@example.test", "Ausgabe");
        var (victimsMail, victimsPath) = await ReceivedAsync(app, "opfer@example.test", "Ausgabe");
        var verp = app.Service<VerpAddress>();
        // Someone who got one mail of ours knows its token; they try it with the victim's row id.
        var victimsRow = verp.TryRead(victimsPath)!.Value;
        var annasToken = annasPath[(annasPath.IndexOf('+') + 1)..annasPath.IndexOf('@')];
        var forged = $"bounce+{victimsRow}{annasToken[^20..]}@{Domain}";

        foreach (var kind in new[] { ReportKind.HardBounce, ReportKind.Complaint, ReportKind.SoftBounce, ReportKind.SenderProblem })
        {
            var effect = await ApplyAsync(app, Dsn(kind, "opfer@example.test", "5.1.1", forged));
            Assert.Equal(ReportKind.Unknown, effect.Kind);
            Assert.Null(effect.OutboundMessageId);
            Assert.Contains("left for a person", effect.Outcome);
        }
        // Naming the reader and our domain alone finds nothing either.
        Assert.Equal(ReportKind.Unknown, (await ApplyAsync(app, Dsn(ReportKind.HardBounce, "opfer@example.test", "5.1.1", $"opfer@example.test"))).Kind);

        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "opfer@example.test")).Status);
        Assert.False(await SuppressedAsync(app, "opfer@example.test"));
        Assert.Equal(0, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync()));
        Assert.NotNull(victimsMail);
    }

    [Fact]
    public async Task Without_a_return_path_a_bounce_is_matched_by_the_Message_ID_of_the_returned_mail_C37()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "weg@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var mail = await app.Smtp.WaitForAsync("weg@example.test", "Ausgabe");
        Assert.Equal("newsletter@tagblatt.example.test", app.Smtp.EnvelopeSender(mail));

        var effect = await ApplyAsync(app, new ClassifiedReport(ReportKind.HardBounce, "weg@example.test", "5.1.1",
            OriginalMessageId: mail.MessageId, Addressees: ["newsletter@tagblatt.example.test"]));

        Assert.Equal(ReportKind.HardBounce, effect.Kind);
        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "weg@example.test")).Status);
    }

    [Fact]
    public async Task Refusals_while_sending_are_recorded_like_reported_ones_so_the_reports_count_both_C37()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "unbekannt@example.test", "da@example.test");
        app.Smtp.RefuseAtRcpt["unbekannt@example.test"] = TestSmtpServer.Reply(550, "5.1.1 <unbekannt@example.test>: user unknown");
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        await app.OutboxIdleAsync();

        Assert.Equal(SubscriberStatus.Bounced, (await ReaderAsync(app, "unbekannt@example.test")).Status);
        Assert.True(await SuppressedAsync(app, "unbekannt@example.test"));
        var bounce = await app.WithDbAsync(db => db.DeliveryEvents.AsNoTracking().SingleAsync());
        Assert.Equal((DeliveryEventKind.HardBounce, "smtp", "5.1.1", campaignId), (bounce.Kind, bounce.Source, bounce.StatusCode, bounce.CampaignId));
        Assert.Equal(SuppressionHash.Email(app.Service<KeyRing>(), "unbekannt@example.test"), bounce.EmailHash);

        app.Smtp.RefuseSender = TestSmtpServer.Reply(550, "5.7.1 sender not authorised");
        var second = await app.CampaignAsync(newsletter, "Zweite");
        Assert.Contains("sender refused", (await app.WaitForCampaignAsync(second, CampaignStatus.Paused)).PauseReason);
        var refusal = await app.WithDbAsync(db => db.DeliveryEvents.AsNoTracking().FirstAsync(e => e.Kind == DeliveryEventKind.SenderRefusal));
        Assert.Equal(("smtp", second), (refusal.Source, refusal.CampaignId));
        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "da@example.test")).Status);
        app.Smtp.RefuseSender = null;
    }

    [Fact]
    public async Task A_withdrawal_by_link_is_counted_against_the_last_campaign_the_reader_got()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "leserin@example.test");
        await app.CampaignAsync(newsletter, "Erste");
        await app.OutboxIdleAsync();
        var last = await app.CampaignAsync(newsletter, "Zweite");
        var mail = await app.Smtp.WaitForAsync("leserin@example.test", "Zweite");
        await app.OutboxIdleAsync();
        var link = System.Text.RegularExpressions.Regex.Match(mail.Headers[HeaderId.ListUnsubscribe]!, "<http://localhost(/u/[A-Za-z0-9_-]{43})>").Groups[1].Value;

        var response = await app.CreateClient().PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        response.EnsureSuccessStatusCode();

        var withdrawal = await app.WithDbAsync(db => db.ConsentEvents.AsNoTracking().SingleAsync(e => e.Kind == ConsentEventKind.Withdrawn));
        Assert.Equal((WithdrawalChannel.OneClick, last), (withdrawal.Channel, withdrawal.CampaignId));
    }

    [Fact]
    public async Task Delays_and_auto_replies_change_nothing()
    {
        await using var app = VerpApp();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, "urlaub@example.test");
        await app.CampaignAsync(newsletter, "Ausgabe");
        var (_, returnPath) = await ReceivedAsync(app, "urlaub@example.test", "Ausgabe");

        Assert.Equal(ReportKind.Delayed, (await ApplyAsync(app, Dsn(ReportKind.Delayed, "urlaub@example.test", "4.4.7", returnPath))).Kind);
        Assert.Equal(ReportKind.AutoReply, (await ApplyAsync(app, new ClassifiedReport(ReportKind.AutoReply, Addressees: [returnPath]))).Kind);

        Assert.Equal(SubscriberStatus.Confirmed, (await ReaderAsync(app, "urlaub@example.test")).Status);
        Assert.Equal(0, await app.WithDbAsync(db => db.DeliveryEvents.CountAsync()));
    }
}
