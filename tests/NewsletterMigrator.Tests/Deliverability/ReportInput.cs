using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// The input of the reports (issue 16.3) as the bounce mailbox and the unsubscribe paths write it: delivery events and
/// withdrawals counted against a campaign, stored straight into the app's SQLite file, and the pages that show them.
/// </summary>
public static class ReportInput
{
    /// <param name="mailId">The outbox row the event is about, as every real report names it; the self-pause after a resume weighs only events about mails sent since.</param>
    public static Task EventAsync(this AppFactory app, DeliveryEventKind kind, int newsletterId, int? campaignId, DateTime atUtc, string? address = null, long? mailId = null) =>
        app.WithDbAsync(async db =>
        {
            db.DeliveryEvents.Add(new DeliveryEvent
            {
                Kind = kind, AtUtc = atUtc, NewsletterId = newsletterId, CampaignId = campaignId, OutboundMessageId = mailId,
                EmailHash = address is null ? null : SuppressionHash.Email(app.Service<KeyRing>(), EmailAddress.Key(address)),
                StatusCode = kind switch { DeliveryEventKind.HardBounce => "5.1.1", DeliveryEventKind.SoftBounce => "4.2.2", DeliveryEventKind.SenderRefusal => "5.7.1", _ => null },
                Source = "mailbox",
            });
            return await db.SaveChangesAsync();
        });

    public static Task EventsAsync(this AppFactory app, int count, DeliveryEventKind kind, int newsletterId, int? campaignId, DateTime atUtc) =>
        Task.WhenAll(Enumerable.Range(0, count).Select(_ => app.EventAsync(kind, newsletterId, campaignId, atUtc)));

    /// <summary>A reader's withdrawal, as the unsubscribe link records it, counted against <paramref name="campaignId"/>.</summary>
    public static Task WithdrawalAsync(this AppFactory app, string address, int? campaignId, DateTime atUtc) =>
        app.WithDbAsync(async db =>
        {
            var key = EmailAddress.Key(address);
            var subscriber = await db.Subscribers.SingleAsync(s => s.EmailKey == key);
            db.ConsentEvents.Add(new ConsentEvent
            {
                SubscriberId = subscriber.Id, NewsletterId = subscriber.NewsletterId, Kind = ConsentEventKind.Withdrawn,
                OccurredAtUtc = atUtc, Channel = "link", Page = "unsubscribe", CampaignId = campaignId,
            });
            return await db.SaveChangesAsync();
        });

    /// <summary>The page as the staff member sees it, in the language asked for, with its text decoded.</summary>
    public static async Task<(HttpStatusCode Status, string Html)> PageAsync(this HttpClient staff, string path, string language = "de")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.AcceptLanguage.ParseAdd(language);
        using var response = await staff.SendAsync(request);
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>The editor signed in afresh, e.g. after the clock moved past the sign-in cookie's lifetime.</summary>
    public static async Task<HttpClient> EditorAgainAsync(this AppFactory app)
    {
        var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.SignInAsync("editor@example.test", "long enough password");
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException("Sign-in failed.");
        return client;
    }

    /// <summary>Moves the clock forward to the next time the Berlin wall clock shows <paramref name="time"/>.</summary>
    public static DateTime AdvanceToBerlin(this SettableClock clock, TimeOnly time)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var today = DateOnly.FromDateTime(Berlin.ToLocal(now));
        var target = Berlin.ToUtc(today.ToDateTime(time));
        if (target <= now) target = Berlin.ToUtc(today.AddDays(1).ToDateTime(time));
        clock.Advance(target - now);
        return target;
    }
}
