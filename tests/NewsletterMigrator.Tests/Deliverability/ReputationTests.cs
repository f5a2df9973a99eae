using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>
/// Issue 16, point 3: a newsletter's page (its campaigns, where the editor looks after its mail) shows its hard-bounce
/// and complaint rates over the last 30 days beside the thresholds the large mailbox providers publish, says plainly
/// when a rate is above its threshold, and counts soft bounces and refusals of our sender. Counts only (C26).
/// </summary>
public sealed partial class ReputationTests
{
    [Fact]
    public async Task The_newsletter_page_shows_its_rates_of_the_last_30_days_and_says_when_one_is_above_its_threshold()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var newsletter = await app.NewsletterAsync();
        var other = await app.NewsletterAsync("lokales");
        var readers = SendingTestData.Addresses(10);
        await app.ConfirmedReadersAsync(newsletter, readers);
        var campaign = await app.CampaignAsync(newsletter, "Ausgabe für die Raten");
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);
        var editor = await app.EditorAsync();
        var page = $"/admin/campaigns/{newsletter.Id}";

        // 10 confirmation mails and 10 campaign mails accepted: a complaint about either hurts the sender alike.
        var html = await HtmlAsync(editor, page);
        Assert.Equal("20", Field(html, "accepted"));
        Assert.Equal("0 % (0 von 20)", Field(html, "complaintRate"));
        Assert.Equal("0 % (0 von 20)", Field(html, "hardBounceRate"));
        Assert.Contains("Beide Raten liegen unter ihren Schwellen.", html);
        Assert.Contains("Google verlangt von Massenversendern seit Februar 2024 unter 0,1 % und nie 0,3 % oder mehr; Yahoo verlangt unter 0,3 %.", html);
        Assert.Contains("Unter 2 %: eine verbreitete Empfehlung, keine von den Anbietern veröffentlichte Grenze.", html);
        Assert.DoesNotContain("reputation-warning", html);

        var now = clock.GetUtcNow().UtcDateTime;
        await app.EventAsync(DeliveryEventKind.Complaint, newsletter.Id, campaign, now, readers[0]);
        await app.EventAsync(DeliveryEventKind.HardBounce, newsletter.Id, campaign, now, readers[1]);
        await app.EventsAsync(2, DeliveryEventKind.SoftBounce, newsletter.Id, campaign, now);
        await app.EventAsync(DeliveryEventKind.SenderRefusal, newsletter.Id, null, now);
        // Outside the window, and another newsletter's: not counted.
        await app.EventsAsync(3, DeliveryEventKind.Complaint, newsletter.Id, campaign, now.AddDays(-31));
        await app.EventsAsync(3, DeliveryEventKind.HardBounce, other.Id, null, now);
        await app.EventsAsync(3, DeliveryEventKind.Complaint, other.Id, null, now);

        html = await HtmlAsync(editor, page);
        Assert.Equal("5 % (1 von 20)", Field(html, "complaintRate"));
        Assert.Equal("5 % (1 von 20)", Field(html, "hardBounceRate"));
        Assert.Equal("2", Field(html, "softBounces"));
        Assert.Equal("1", Field(html, "senderRefusals"));
        Assert.Contains("Die Beschwerderate von 5 % erreicht oder überschreitet die Grenze von 0,3 %: Google nimmt Absender ab dieser Rate von seinen Hilfen bei Zustellproblemen aus.", html);
        Assert.Contains("Die Rate dauerhaft unzustellbarer Mails von 5 % liegt über den empfohlenen 2 %.", html);
        Assert.DoesNotContain("Beide Raten liegen unter ihren Schwellen.", html);
        foreach (var address in readers) Assert.DoesNotContain(address, html, StringComparison.OrdinalIgnoreCase);
        var en = await HtmlAsync(editor, page, "en");
        Assert.Contains("The complaint rate of 5 % reaches or exceeds the 0.3 % limit: Google no longer offers senders at this rate its help with delivery problems.", en);
        Assert.Contains("Since February 2024 Google asks bulk senders for below 0.1 % and never 0.3 % or more; Yahoo asks for below 0.3 %.", en);
        Assert.Contains("The hard-bounce rate of 5 % is above the recommended 2 %.", en);
        Assert.Contains("Below 2 %: common guidance, not a limit the providers publish.", en);

        // A month later the mails and the events have left the window.
        clock.Advance(TimeSpan.FromDays(31));
        editor = await app.EditorAgainAsync(); // the sign-in of a month ago has expired
        html = await HtmlAsync(editor, page);
        Assert.Equal("0", Field(html, "accepted"));
        Assert.Equal("– (keine Mails angenommen)", Field(html, "complaintRate"));
        Assert.DoesNotContain("reputation-warning", html);
    }

    [Fact]
    public async Task A_reader_refused_at_RCPT_counts_in_the_hard_bounce_rate_among_the_mails_sent_not_only_the_accepted()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var readers = SendingTestData.Addresses(10);
        await app.ConfirmedReadersAsync(newsletter, readers);
        app.Smtp.RefuseAtRcpt[readers[0]] = TestSmtpServer.Reply(550, "5.1.1 user unknown");
        var campaign = await app.CampaignAsync(newsletter, "Ausgabe mit einer toten Adresse");
        await app.WaitForCampaignAsync(campaign, CampaignStatus.Sent);

        // 10 confirmation mails and 9 campaign mails accepted, 1 refused at RCPT TO: 1 hard bounce in 20 mails sent is
        // 5 %, not 1 in the 19 accepted (5.26 %). Complaints are counted on what was accepted.
        var html = await HtmlAsync(await app.EditorAsync(), $"/admin/campaigns/{newsletter.Id}");
        Assert.Equal("19", Field(html, "accepted"));
        Assert.Equal("5 % (1 von 20)", Field(html, "hardBounceRate"));
        Assert.Equal("0 % (0 von 19)", Field(html, "complaintRate"));
        Assert.Contains("Gezählt auf alle abgeschickten Mails: angenommene und beim Empfang abgewiesene.", html);
    }

    [Theory]
    // Google and Yahoo: below 0.3 %; Google: below 0.1 %. Exactly 3 in 1,000 is at the limit, not a hair below.
    [InlineData(3, 1000, true, false)]
    [InlineData(299, 100_000, false, true)]
    [InlineData(100, 100_000, false, true)]
    [InlineData(99, 100_000, false, false)]
    public void A_complaint_rate_is_at_the_limit_from_0_3_percent_and_above_the_target_from_0_1_percent(int complaints, int accepted, bool atLimit, bool aboveTarget)
    {
        var figures = new NewsletterReputation.Figures(accepted, accepted, 0, 0, complaints, 0, 0, NewsletterReputation.Percent(complaints, accepted));
        Assert.Equal(atLimit, figures.ComplaintsAtLimit);
        Assert.Equal(aboveTarget, figures.ComplaintsAboveTarget);
    }

    [Theory]
    [InlineData(2, 100, true)]
    [InlineData(199, 10_000, false)]
    public void A_hard_bounce_rate_of_2_percent_or_more_is_above_the_guidance(int hardBounces, int accepted, bool above) =>
        Assert.Equal(above, new NewsletterReputation.Figures(accepted, accepted, hardBounces, 0, 0, 0, NewsletterReputation.Percent(hardBounces, accepted), 0).HardBouncesAboveGuidance);

    private static async Task<string> HtmlAsync(HttpClient staff, string path, string language = "de")
    {
        var (status, html) = await staff.PageAsync(path, language);
        Assert.Equal(HttpStatusCode.OK, status);
        return html;
    }

    private static string Field(string html, string name) =>
        Regex.Match(html, $"data-field=\"{name}\">([^<]*)<") is { Success: true } m ? m.Groups[1].Value.Trim() : throw new InvalidOperationException($"No field {name}.");
}
