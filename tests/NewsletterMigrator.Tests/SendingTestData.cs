using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using NewsletterMigrator.Campaigns;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Readers and campaigns made through the app's own services: sign-up, DOI mail, confirmation.</summary>
public static class SendingTestData
{
    public static string[] Addresses(int count, string prefix = "leser") =>
        Enumerable.Range(1, count).Select(i => $"{prefix}{i:D3}@example.test").ToArray();

    /// <summary>Gives the newsletter the brand of issue 21: a 320×80 PNG logo (stored through the app's own checks), a colour and a footer line.</summary>
    public static async Task<Newsletter> BrandAsync(this AppFactory app, int newsletterId, string colour, string footerLine)
    {
        await using var scope = app.Services.CreateAsyncScope();
        using var logo = new MemoryStream(TestPngs.Logo(320, 80));
        var stored = await scope.ServiceProvider.GetRequiredService<NewsletterLogos>().SetAsync(newsletterId, logo, logo.Length, "test");
        Assert.True(stored.Stored, stored.MessageKey);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await db.Newsletters.Where(n => n.Id == newsletterId)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.BrandColour, colour).SetProperty(n => n.BrandFooter, footerLine));
        return await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletterId);
    }

    /// <summary>Signs the readers up, lets their DOI mails go out, then confirms each one.</summary>
    public static async Task ConfirmedReadersAsync(this AppFactory app, Newsletter newsletter, params string[] emails)
    {
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var text = await scope.ServiceProvider.GetRequiredService<ConsentTextService>().ForReaderAsync(newsletter, "de")
                       ?? throw new InvalidOperationException("The newsletter has no consent text.");
            var signUps = scope.ServiceProvider.GetRequiredService<SignUpService>();
            foreach (var email in emails)
                await signUps.SignUpAsync(new SignUpRequest(newsletter, text, email, "de", null, "127.0.0.1", "test", "test") { AgeConfirmed = true });
        }
        await app.OutboxIdleAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var tokens = scope.ServiceProvider.GetRequiredService<TokenService>();
            var confirmations = scope.ServiceProvider.GetRequiredService<ConfirmationService>();
            var keys = emails.Select(EmailAddress.Key).ToList();
            foreach (var subscriber in await db.Subscribers.AsNoTracking().Where(s => keys.Contains(s.EmailKey)).ToListAsync())
            {
                var state = await confirmations.ConfirmAsync(tokens.Create(TokenPurpose.Confirm, subscriber.Id, subscriber.ConfirmGeneration), "127.0.0.1", "test");
                if (state != ConfirmState.Ready) throw new InvalidOperationException($"Confirming failed: {state}");
            }
        }
    }

    /// <summary>Waits until no row is queued or leased any more (retries count as queued).</summary>
    public static async Task OutboxIdleAsync(this AppFactory app, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (await app.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.Status == MessageStatus.Queued || m.Status == MessageStatus.Leased)))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The outbox did not drain: " + await app.OutboxSummaryAsync());
            await Task.Delay(100);
        }
    }

    public static Task<string> OutboxSummaryAsync(this AppFactory app) => app.WithDbAsync(async db =>
        string.Join(", ", (await db.OutboundMessages.GroupBy(m => new { m.Kind, m.Status }).Select(g => new { g.Key.Kind, g.Key.Status, Count = g.Count() }).ToListAsync())
            .Select(g => $"{g.Kind}/{g.Status}: {g.Count}")));

    public static async Task<int> CampaignAsync(this AppFactory app, Newsletter newsletter, string subject, string body = "Die **wichtigste** Nachricht des Tages.", bool start = true)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var campaigns = scope.ServiceProvider.GetRequiredService<CampaignService>();
        var id = (await campaigns.SaveDraftAsync(newsletter.Id, null, subject, "Kurz vorab", body, "redaktion@example.test"))!.Value;
        if (start) await campaigns.StartAsync(newsletter.Id, id, "redaktion@example.test");
        return id;
    }

    public static async Task WithCampaignsAsync(this AppFactory app, Func<CampaignService, Task> action)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<CampaignService>());
    }

    public static Task<Campaign> CampaignRowAsync(this AppFactory app, int id) =>
        app.WithDbAsync(db => db.Campaigns.AsNoTracking().SingleAsync(c => c.Id == id));

    public static async Task<Campaign> WaitForCampaignAsync(this AppFactory app, int id, CampaignStatus status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var campaign = await app.CampaignRowAsync(id);
            if (campaign.Status == status) return campaign;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Campaign is {campaign.Status}, not {status}; {await app.OutboxSummaryAsync()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The campaign mails the server accepted, by recipient.</summary>
    public static Dictionary<string, List<MimeMessage>> Received(this TestSmtpServer smtp, string subject) =>
        smtp.Messages.Where(m => m.Subject == subject)
            .GroupBy(m => m.To.Mailboxes.Single().Address.ToLowerInvariant())
            .ToDictionary(g => g.Key, g => g.ToList());
}
