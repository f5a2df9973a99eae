using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>A sign-up from the portal's own form goes through the rules of the sign-up pages (C7, C30, C38, C42).</summary>
public sealed class SignUpApiTests(ApiFixture fixture) : IClassFixture<ApiFixture>
{
    private AppFactory App => fixture.App;
    private const string SignUps = "/api/v1/newsletters/eilmeldungen/sign-ups";

    private async Task<(HttpClient Client, int TextId)> PortalAsync(string keyName)
    {
        var client = App.ApiClient(await App.ApiKeyAsync(keyName));
        var text = await (await client.GetAsync("/api/v1/newsletters/eilmeldungen/consent-text?language=de")).JsonAsync();
        Assert.Contains("Tagblatt", text.GetProperty("statement").GetString() + text.GetProperty("privacyInformation").GetString());
        return (client, text.GetProperty("id").GetInt32());
    }

    private static object Body(string email, int textId) => new
    {
        email, consentTextId = textId, consent = true, ageConfirmed = true, readerIp = "203.0.113.7", readerUserAgent = "Mozilla/5.0 (Portal-Test)",
    };

    private int DoiMails(string email) => App.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == email) && Html.Links(m.HtmlBody).Any(l => l.Contains("/confirm/")));

    [Fact]
    public async Task A_sign_up_sends_the_DOI_mail_and_is_recorded_with_page_api_the_readers_IP_user_agent_and_text_C7()
    {
        var (client, textId) = await PortalAsync("portal");

        var response = await client.PostJsonAsync(SignUps, Body("leserin@example.test", textId));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("accepted", (await response.JsonAsync()).GetProperty("status").GetString());
        var mail = await App.Smtp.WaitForAsync(m => m.To.Mailboxes.Any(b => b.Address == "leserin@example.test"));
        Assert.Contains(Html.Links(mail.HtmlBody), l => l.Contains("/confirm/"));
        var signUp = await App.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp
            && db.Subscribers.Any(s => s.Id == e.SubscriberId && s.EmailKey == "leserin@example.test")));
        Assert.Equal("api", signUp.Page);
        Assert.Equal("203.0.113.7", signUp.IpAddress);
        Assert.Equal("Mozilla/5.0 (Portal-Test)", signUp.UserAgent);
        Assert.Equal(textId, signUp.ConsentTextId);
        Assert.True(signUp.AgeConfirmed);
        var audit = await App.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.UserName == "api:portal" && a.Action == "sign-up"));
        Assert.Equal("l***@example.test for eilmeldungen", audit.Details);
    }

    [Fact]
    public async Task The_answer_is_the_same_for_a_confirmed_address_and_no_mail_goes_out_C30()
    {
        await App.ConfirmedReadersAsync(fixture.News, "schon-dabei@example.test");
        var (client, textId) = await PortalAsync("portal-c30");
        var mailsBefore = App.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == "schon-dabei@example.test"));

        var known = await client.PostJsonAsync(SignUps, Body("schon-dabei@example.test", textId));
        var fresh = await client.PostJsonAsync(SignUps, Body("neu-c30@example.test", textId));

        Assert.Equal(fresh.StatusCode, known.StatusCode);
        Assert.Equal(await fresh.Content.ReadAsStringAsync(), await known.Content.ReadAsStringAsync());
        await App.OutboxIdleAsync();
        Assert.Equal(mailsBefore, App.Smtp.Messages.Count(m => m.To.Mailboxes.Any(b => b.Address == "schon-dabei@example.test")));
    }

    [Fact]
    public async Task Past_the_daily_cap_the_answer_stays_the_same_but_no_fourth_DOI_mail_goes_out_C42()
    {
        var (client, textId) = await PortalAsync("portal-c42");
        var answers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            if (i > 0) fixture.Clock.Advance(TimeSpan.FromHours(4)); // past the resend interval and the hourly per-address limit
            var response = await client.PostJsonAsync(SignUps, Body("gedeckelt@example.test", textId));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            answers.Add(await response.Content.ReadAsStringAsync());
        }
        await App.OutboxIdleAsync();

        Assert.All(answers, a => Assert.Equal(answers[0], a));
        Assert.Equal(3, DoiMails("gedeckelt@example.test"));
    }

    [Fact]
    public async Task An_unknown_or_outdated_consent_text_version_is_refused_and_names_the_current_one()
    {
        var (client, textId) = await PortalAsync("portal-text");

        var unknown = await (await client.PostJsonAsync(SignUps, Body("text1@example.test", 987654))).ProblemAsync(409, "consent-text-not-current");
        Assert.Contains("no consent text 987654", unknown.GetProperty("detail").GetString());

        // The privacy notice's version label changes: the text shown so far is no longer what the form shows.
        await App.WithDbAsync(db => db.Newsletters.Where(n => n.Slug == "eilmeldungen")
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.PrivacyNoticeVersion, "2027-01")));
        var outdated = await (await client.PostJsonAsync(SignUps, Body("text2@example.test", textId))).ProblemAsync(409, "consent-text-not-current");
        var current = outdated.GetProperty("currentConsentTextId").GetInt32();
        Assert.NotEqual(textId, current);
        Assert.False(await App.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.EmailKey == "text1@example.test" || s.EmailKey == "text2@example.test")));

        Assert.Equal(HttpStatusCode.Accepted, (await client.PostJsonAsync(SignUps, Body("text2@example.test", current))).StatusCode);
    }

    [Fact]
    public async Task A_sign_up_without_consent_age_IP_or_user_agent_is_a_validation_problem_and_stores_nothing()
    {
        var (client, textId) = await PortalAsync("portal-invalid");

        var problem = await (await client.PostJsonAsync(SignUps, new { email = "kein-at-zeichen", consentTextId = textId, consent = false, readerIp = "999.1.1.1" }))
            .ProblemAsync(400, "validation");

        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order().ToList();
        Assert.Equal(["ageConfirmed", "consent", "email", "readerIp", "readerUserAgent"], fields);
        Assert.Equal(0, await App.WithDbAsync(db => db.ConsentEvents.CountAsync(e => e.Page == "api" && e.IpAddress == "999.1.1.1")));
    }

    [Fact]
    public async Task A_newsletter_without_a_complete_legal_identity_takes_no_sign_up_C38()
    {
        await using (var scope = App.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
            {
                Slug = "unfertig", Name = "Unfertig", SenderName = "Unfertig", SenderAddress = "unfertig@example.test",
            }, "test");
        }
        var client = App.ApiClient(await App.ApiKeyAsync("portal-c38"));

        await (await client.GetAsync("/api/v1/newsletters/unfertig/consent-text")).ProblemAsync(409, "newsletter-not-open");
        var problem = await (await client.PostJsonAsync("/api/v1/newsletters/unfertig/sign-ups", Body("offen@example.test", 1))).ProblemAsync(409, "newsletter-not-open");
        Assert.Contains("C38", problem.GetProperty("detail").GetString());
        Assert.False(await App.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.EmailKey == "offen@example.test")));
    }

    [Fact]
    public async Task Sign_ups_from_one_readers_network_are_limited_per_hour_C31()
    {
        var (client, textId) = await PortalAsync("portal-c31");
        var limit = App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Common.ConsentOptions>>().Value.SignUpsPerIpPerHour;
        HttpResponseMessage? last = null;
        for (var i = 0; i <= limit; i++)
            last = await client.PostJsonAsync(SignUps, new
            {
                email = $"netz{i}@example.test", consentTextId = textId, consent = true, ageConfirmed = true, readerIp = "198.51.100.9", readerUserAgent = "x",
            });

        await last!.ProblemAsync(429, "rate-limited");
        Assert.Equal("3600", last!.Headers.GetValues("Retry-After").Single());
        Assert.False(await App.WithDbAsync(db => db.Subscribers.AnyAsync(s => s.EmailKey == $"netz{limit}@example.test")));
    }
}
