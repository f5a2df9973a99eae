using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The reader's export says when the first newsletter went out (Art. 15). Sending reports the delivery through its
/// outcome interface and Subscribers records the time (issue 18.3), in the flush that records the mail as sent.
/// </summary>
public sealed class FirstNewsletterTests
{
    private const string Reader = "leserin@example.test";

    [Fact]
    public async Task The_readers_export_says_when_the_first_newsletter_went_out_and_a_later_one_does_not_move_it_C14()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        await app.ConfirmedReadersAsync(newsletter, Reader);
        Assert.Null(await FirstNewsletterInExportAsync(app)); // the DOI mail is no newsletter

        var first = await app.CampaignAsync(newsletter, "Erste Ausgabe");
        await app.WaitForCampaignAsync(first, CampaignStatus.Sent);
        var sentAt = await app.WithDbAsync(db => db.OutboundMessages.Where(m => m.CampaignId == first).Select(m => m.SentAtUtc).SingleAsync());
        Assert.NotNull(sentAt);
        Assert.Equal(sentAt, await FirstNewsletterInExportAsync(app));

        var second = await app.CampaignAsync(newsletter, "Zweite Ausgabe");
        await app.WaitForCampaignAsync(second, CampaignStatus.Sent);
        Assert.Equal(sentAt, await FirstNewsletterInExportAsync(app));
    }

    private static async Task<DateTime?> FirstNewsletterInExportAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var subscriber = await db.Subscribers.AsNoTracking().SingleAsync(s => s.EmailKey == Reader);
        using var export = JsonDocument.Parse(await scope.ServiceProvider.GetRequiredService<DataExportService>().ExportAsync(subscriber));
        var value = export.RootElement.GetProperty("subscriber").GetProperty("firstNewsletterSentAtUtc");
        return value.ValueKind == JsonValueKind.Null ? null : value.GetDateTime();
    }
}
