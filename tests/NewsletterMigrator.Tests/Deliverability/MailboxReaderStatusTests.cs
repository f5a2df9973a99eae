using MailKit;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.Deliverability.MailboxReaderSteps;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>C44: the mails left for a person are counted for the dashboard, with the arrival of the oldest, and the count
/// goes down at the next check once staff have moved them away in their mail client.</summary>
public sealed class MailboxReaderStatusTests
{
    [DovecotFact]
    public async Task The_mails_left_for_a_person_are_counted_with_the_oldest_arrival_until_staff_move_them_away()
    {
        await using var dovecot = await TestDovecot.StartAsync();
        var threeDaysAgo = new DateTimeOffset(DateTime.UtcNow.AddDays(-3).Date.AddHours(9), TimeSpan.Zero);
        var yesterday = threeDaysAgo.AddDays(2);
        await dovecot.AppendAsync([System.Text.Encoding.UTF8.GetBytes(BounceMails.Question(1).ReplaceLineEndings("\r\n"))], threeDaysAgo);
        await dovecot.AppendAsync([System.Text.Encoding.UTF8.GetBytes(BounceMails.Question(2).ReplaceLineEndings("\r\n"))], yesterday);
        // Recounted at every lease renewal (a second here), also while the reader idles.
        await using var app = new AppFactory(settings: dovecot.Settings(("Bounces:Imap:LeaseDuration", "00:00:03"))).Started();

        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 2, "both questions are counted");
        var status = await StatusAsync(app);
        Assert.True(status.Enabled);
        Assert.False(status.Failing);
        Assert.Equal(threeDaysAgo.UtcDateTime, status.NeedsAttentionOldestUtc);
        Assert.InRange(status.OldestWaiting!.Value, TimeSpan.FromDays(3) - TimeSpan.FromHours(24), TimeSpan.FromDays(3) + TimeSpan.FromHours(24));

        // Staff answer the older one and move it to a folder of their own.
        using (var client = await dovecot.ConnectAsync())
        {
            var done = await client.GetFolder(client.PersonalNamespaces[0]).CreateAsync("Erledigt", true);
            var waiting = await client.GetFolderAsync("Processed.NeedsAttention");
            await waiting.OpenAsync(FolderAccess.ReadWrite);
            var oldest = (await waiting.FetchAsync(0, -1, MessageSummaryItems.InternalDate | MessageSummaryItems.UniqueId)).MinBy(m => m.InternalDate)!;
            await waiting.MoveToAsync(oldest.UniqueId, done!);
        }

        await WaitForAsync(async () => (await app.StateAsync()).NeedsAttentionCount == 1, "the count goes down");
        Assert.Equal(yesterday.UtcDateTime, (await StatusAsync(app)).NeedsAttentionOldestUtc);
    }

    [Fact]
    public async Task Without_a_host_the_reader_is_off_and_the_dashboard_says_so()
    {
        await using var app = new AppFactory();
        var status = await StatusAsync(app);
        Assert.False(status.Enabled);
        Assert.False(status.Failing);
    }

    private static async Task<MailboxStatusView> StatusAsync(AppFactory app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MailboxStatus>().GetAsync();
    }
}
