using System.Net;
using NewsletterMigrator.Api;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>The figures a CMS may show: counts only, as the admin area's reports.</summary>
public sealed class StatisticsApiTests
{
    [Fact]
    public async Task Statistics_count_subscribers_by_status_the_funnel_and_each_campaigns_mails()
    {
        await using var app = new AppFactory(settings: new() { ["Consent:SignUpMinimumDuration"] = "00:00:00" });
        var newsletter = await app.NewsletterAsync();
        await app.InvitationsAsync(newsletter, "0160 2424240", "0171 5551234");
        await app.ConfirmedReadersAsync(newsletter, "a@example.test", "b@example.test");
        var id = await app.CampaignAsync(newsletter, "Zählbar");
        await app.WaitForCampaignAsync(id, NewsletterMigrator.Data.CampaignStatus.Sent);
        var client = app.ApiClient(await app.ApiKeyAsync("zahlen", [ApiScopes.StatsRead]));

        var response = await client.GetAsync("/api/v1/newsletters/eilmeldungen/statistics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stats = await response.JsonAsync();
        Assert.Equal(2, stats.GetProperty("subscribers").GetProperty("confirmed").GetInt32());
        Assert.Equal(0, stats.GetProperty("subscribers").GetProperty("pending").GetInt32());
        Assert.Equal(2, stats.GetProperty("funnel").GetProperty("imported").GetInt64());
        var campaign = stats.GetProperty("campaigns").EnumerateArray().Single();
        Assert.Equal(id, campaign.GetProperty("id").GetInt32());
        Assert.Equal("sent", campaign.GetProperty("status").GetString());
        Assert.Equal(2, campaign.GetProperty("recipients").GetInt32());
        Assert.Equal(2, campaign.GetProperty("sent").GetInt32());
        Assert.DoesNotContain("@example.test", stats.ToString());
    }
}
