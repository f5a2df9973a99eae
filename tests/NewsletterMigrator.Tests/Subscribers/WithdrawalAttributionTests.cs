using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 16.3: a withdrawal is counted against a campaign only when the reader plainly answered that campaign's mail:
/// a link, one-click or mailto from a mail sent within the report's 14 days, or a complaint about that very mail.
/// Withdrawals staff record, an opt-out list and the other newsletters a complaint ends belong to no campaign.
/// </summary>
public sealed class WithdrawalAttributionTests
{
    private const string Reader = "leserin@example.test";

    private static async Task<(AppFactory App, Newsletter Newsletter, int CampaignId, MimeMessage Mail)> AfterCampaignAsync()
    {
        var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        var campaignId = await app.CampaignAsync(newsletter, "Ausgabe");
        var mail = await app.Smtp.WaitForAsync(Reader, "Ausgabe");
        await app.OutboxIdleAsync();
        return (app, newsletter, campaignId, mail);
    }

    private static Task<ConsentEvent> WithdrawalAsync(AppFactory app, int? newsletterId = null) => app.WithDbAsync(db =>
        db.ConsentEvents.AsNoTracking().SingleAsync(e => e.Kind == ConsentEventKind.Withdrawn && (newsletterId == null || e.NewsletterId == newsletterId)));

    private static async Task InScopeAsync<T>(AppFactory app, Func<T, Task> action) where T : notnull
    {
        await using var scope = app.Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<T>());
    }

    [Fact]
    public async Task An_admin_suppressing_the_address_is_no_withdrawal_from_the_last_campaign()
    {
        var (app, _, _, _) = await AfterCampaignAsync();
        await using var _app = app;

        await InScopeAsync<ErasureService>(app, e => e.SuppressManuallyAsync(Reader, "DE", "admin@example.test"));

        var withdrawal = await WithdrawalAsync(app);
        Assert.Equal((WithdrawalChannel.Admin, (int?)null), (withdrawal.Channel, withdrawal.CampaignId));
    }

    [Fact]
    public async Task An_imported_opt_out_list_is_no_withdrawal_from_the_last_campaign()
    {
        var (app, _, _, _) = await AfterCampaignAsync();
        await using var _app = app;

        await InScopeAsync<OptOutListImport>(app, i => i.ImportAsync(new MemoryStream(Encoding.UTF8.GetBytes(Reader + "\n")), "abmeldungen.csv", "DE", "admin@example.test"));

        var withdrawal = await WithdrawalAsync(app);
        Assert.Equal((int?)null, withdrawal.CampaignId);
    }

    [Fact]
    public async Task A_withdrawal_by_phone_that_staff_record_is_no_withdrawal_from_the_last_campaign()
    {
        var (app, _, _, _) = await AfterCampaignAsync();
        await using var _app = app;

        await InScopeAsync<InformalWithdrawals>(app, w => w.RecordAsync(Reader, WithdrawalChannel.Phone, "editor@example.test"));

        var withdrawal = await WithdrawalAsync(app);
        Assert.Equal((WithdrawalChannel.Phone, (int?)null), (withdrawal.Channel, withdrawal.CampaignId));
    }

    [Fact]
    public async Task A_click_on_the_link_of_a_campaign_mail_older_than_the_report_window_is_counted_against_no_campaign()
    {
        var (app, _, _, mail) = await AfterCampaignAsync();
        await using var _app = app;
        await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.Kind == MessageKind.Campaign)
            .ExecuteUpdateAsync(u => u.SetProperty(m => m.SentAtUtc, DateTime.UtcNow.AddDays(-15))));
        var link = Regex.Match(mail.Headers[HeaderId.ListUnsubscribe]!, "<http://localhost(/u/[A-Za-z0-9_-]{43})>").Groups[1].Value;

        var response = await app.CreateClient().PostAsync(link, new FormUrlEncodedContent(new Dictionary<string, string> { ["List-Unsubscribe"] = "One-Click" }));
        response.EnsureSuccessStatusCode();

        var withdrawal = await WithdrawalAsync(app);
        Assert.Equal((WithdrawalChannel.OneClick, (int?)null), (withdrawal.Channel, withdrawal.CampaignId));
    }

    [Fact]
    public async Task A_complaint_counts_only_the_reported_mails_newsletter_against_its_campaign_not_the_other_newsletters_last_campaign()
    {
        await using var app = new AppFactory();
        var eilmeldungen = await app.NewsletterAsync();
        var sport = await app.NewsletterAsync("sport");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var text = (await scope.ServiceProvider.GetRequiredService<Consent.ConsentTextService>().ForReaderAsync(sport, "de"))!;
            await scope.ServiceProvider.GetRequiredService<Consent.SignUpService>()
                .SignUpAsync(new Consent.SignUpRequest(sport, text, Reader, "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true });
        }
        await app.ConfirmedReadersAsync(eilmeldungen, Reader); // confirms the sport subscription too
        await app.CampaignAsync(sport, "Sportausgabe");
        await app.Smtp.WaitForAsync(Reader, "Sportausgabe");
        var campaignId = await app.CampaignAsync(eilmeldungen, "Tagesausgabe");
        var mail = await app.Smtp.WaitForAsync(Reader, "Tagesausgabe");
        await app.OutboxIdleAsync();

        await InScopeAsync<ReportEffects>(app, r => r.ApplyAsync(new ClassifiedReport(ReportKind.Complaint, Reader, OriginalMessageId: mail.MessageId, FeedbackType: "abuse")));

        Assert.Equal(campaignId, (await WithdrawalAsync(app, eilmeldungen.Id)).CampaignId);
        // The reader complained about the Eilmeldungen issue; the sport newsletter's last campaign did not lose them.
        Assert.Null((await WithdrawalAsync(app, sport.Id)).CampaignId);
    }
}
