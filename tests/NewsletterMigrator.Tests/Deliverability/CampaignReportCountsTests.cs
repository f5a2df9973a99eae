using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16, point 3: a campaign's report counts, per Berlin day for 14 days from its start, the mails our SMTP server
/// accepted, the hard and soft bounces, the complaints and the withdrawals counted against it; counts that name no
/// reader (C26), shown only within the campaign's newsletter.
/// </summary>
public sealed partial class CampaignReportCountsTests
{
    private const string Subject = "Ausgabe über Mitternacht";

    [Fact]
    public async Task The_report_counts_each_Berlin_day_on_its_own_across_midnight_and_names_no_reader_C26()
    {
        var clock = new SettableClock();
        // Two mails an hour: the clock moved past midnight splits the campaign's four mails over two Berlin days.
        await using var app = new AppFactory(settings: new() { ["Smtp:MessagesPerHour"] = "2" }) { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(4);
        clock.AdvanceToBerlin(new TimeOnly(21, 30));
        await app.ConfirmedReadersAsync(newsletter, readers[..2]);
        clock.Advance(TimeSpan.FromMinutes(61));
        await app.ConfirmedReadersAsync(newsletter, readers[2..]);
        var other = await app.CampaignAsync(newsletter, "Andere Ausgabe", start: false);

        var evening = clock.AdvanceToBerlin(new TimeOnly(23, 45));
        var day = DateOnly.FromDateTime(Berlin.ToLocal(evening));
        var campaign = await app.CampaignAsync(newsletter, Subject);
        // Recorded as sent, not only received: a send recorded after the clock moved would count in the next hour's cap.
        await ReaderSteps.WaitUntilAsync(async () => await app.WithDbAsync(db =>
            db.OutboundMessages.CountAsync(m => m.CampaignId == campaign && m.Status == MessageStatus.Sent)) == 2);
        clock.AdvanceToBerlin(new TimeOnly(0, 50));
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        Assert.Equal(4, app.Smtp.Received(Subject).Count);

        DateTime At(DateOnly date, int hour, int minute) => Berlin.ToUtc(date.ToDateTime(new TimeOnly(hour, minute)));
        var nextDay = day.AddDays(1);
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, At(day, 23, 50), readers[0]);
        await app.WithdrawalAsync(readers[1], campaign, At(day, 23, 59));
        await app.EventAsync(DeliveryEventKind.Complaint, newsletter.Id, campaign, At(nextDay, 0, 1), readers[2]);
        await app.WithdrawalAsync(readers[2], campaign, At(nextDay, 0, 2));
        await app.EventsAsync(2, DeliveryEventKind.SoftBounce, newsletter.Id, campaign, At(nextDay, 0, 30));
        // Not this campaign's: our sender refused (the newsletter's page counts it), another campaign, no campaign.
        await app.EventAsync(DeliveryEventKind.SenderRefusal, newsletter.Id, campaign, At(nextDay, 0, 10));
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, other, At(nextDay, 0, 10));
        await app.WithdrawalAsync(readers[3], null, At(nextDay, 0, 20));

        var editor = await app.EditorAsync();
        var (status, html) = await editor.PageAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign}");
        Assert.Equal(HttpStatusCode.OK, status);
        var rows = Rows(html);
        // Columns: accepted, hard bounces, soft bounces, complaints, unsubscribes.
        Assert.Equal([2, 1, 0, 0, 1], rows[day.ToString("dd.MM.yyyy")]);
        Assert.Equal([2, 0, 2, 1, 1], rows[nextDay.ToString("dd.MM.yyyy")]);
        Assert.Equal([4, 1, 2, 1, 2], rows["Gesamt"]);
        Assert.Equal(3, rows.Count);
        Assert.Contains("Zustellung und Reaktionen nach Tagen", html);
        Assert.Contains("Delivery and responses by day", (await editor.PageAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign}", "en")).Html);

        // C26: nothing in the page names, hashes or points to a reader.
        foreach (var address in readers)
        {
            Assert.DoesNotContain(address, html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(address.Split('@')[0], html, StringComparison.OrdinalIgnoreCase);
            var hash = SuppressionHash.Email(app.Service<KeyRing>(), EmailAddress.Key(address));
            Assert.DoesNotContain(Convert.ToHexString(hash), html, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Convert.ToBase64String(hash), html);
        }
        var subscriberIds = await app.WithDbAsync(db => db.Subscribers.Select(s => s.Id.ToString()).ToListAsync());
        Assert.All(subscriberIds, id => Assert.DoesNotContain(id, html, StringComparison.OrdinalIgnoreCase));

        // Three weeks later: the table stops at the fourteenth day; a late bounce still counts in the total.
        clock.Advance(TimeSpan.FromDays(21));
        editor = await app.EditorAgainAsync(); // the sign-in of three weeks ago has expired
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, clock.GetUtcNow().UtcDateTime);
        rows = Rows((await editor.PageAsync($"/admin/campaigns/{newsletter.Id}/report/{campaign}")).Html);
        Assert.Equal(15, rows.Count);
        Assert.True(rows.ContainsKey(day.AddDays(13).ToString("dd.MM.yyyy")));
        Assert.False(rows.ContainsKey(day.AddDays(14).ToString("dd.MM.yyyy")));
        Assert.Equal([4, 2, 2, 1, 2], rows["Gesamt"]);
    }

    [Fact]
    public async Task An_editor_of_another_newsletter_gets_404_for_the_report_and_the_newsletter_page()
    {
        await using var app = new AppFactory();
        var mine = await app.NewsletterAsync("erstes");
        var others = await app.NewsletterAsync("zweites");
        var myCampaign = await app.CampaignAsync(mine, "Meine Ausgabe", start: false);
        var theirCampaign = await app.CampaignAsync(others, "Fremde Ausgabe", start: false);
        await app.EventAsync(DeliveryEventKind.Complaint, others.Id, theirCampaign, DateTime.UtcNow);
        var editor = await app.EditorAsync();
        var id = await app.UserIdAsync("editor@example.test");
        await app.WithDbAsync(async db =>
        {
            await db.StaffNewsletters.Where(s => s.UserId == id).ExecuteDeleteAsync();
            db.StaffNewsletters.Add(new StaffNewsletter { UserId = id, NewsletterId = mine.Id });
            return await db.SaveChangesAsync();
        });

        Assert.Equal(HttpStatusCode.OK, (await editor.PageAsync($"/admin/campaigns/{mine.Id}/report/{myCampaign}")).Status);
        Assert.Equal(HttpStatusCode.OK, (await editor.PageAsync($"/admin/campaigns/{mine.Id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await editor.PageAsync($"/admin/campaigns/{others.Id}/report/{theirCampaign}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await editor.PageAsync($"/admin/campaigns/{others.Id}")).Status);
        // The other newsletter's campaign under the editor's own newsletter is a campaign that does not exist (issue 13.7).
        Assert.Equal(HttpStatusCode.NotFound, (await editor.PageAsync($"/admin/campaigns/{mine.Id}/report/{theirCampaign}")).Status);
    }

    /// <summary>The report's day rows and total: label → accepted, hard, soft, complaints, unsubscribes.</summary>
    private static Dictionary<string, int[]> Rows(string html) =>
        RowPattern().Matches(html).ToDictionary(m => m.Groups[1].Value.Trim(),
            m => CellPattern().Matches(m.Groups[2].Value).Select(c => int.Parse(c.Groups[1].Value)).ToArray());

    [GeneratedRegex("<tr class=\"delivery-row\">\\s*<th[^>]*>(.*?)</th>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex RowPattern();

    [GeneratedRegex("<td[^>]*>\\s*(\\d+)\\s*</td>")]
    private static partial Regex CellPattern();
}
