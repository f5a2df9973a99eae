using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Deliverability;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Deliverability;

/// <summary>What the mailbox reader tests look at: the test Dovecot's folders and the app's records of the mailbox.</summary>
internal static class MailboxReaderSteps
{
    /// <summary>How long a step may take on a busy machine; proves nothing about speed (the bench measures that).</summary>
    public static readonly TimeSpan Promptly = TimeSpan.FromSeconds(30);

    /// <summary>Dovecot's maildir names subfolders with '.'.</summary>
    public static string FolderFor(ReportKind kind) => $"Processed.{MailboxFolders.NameOf(kind)}";

    public static async Task WaitForAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? Promptly);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail($"Timed out waiting until {what}.");
            await Task.Delay(100);
        }
    }

    public static async Task<int> InboxCountAsync(this TestDovecot dovecot) => (await dovecot.FolderCountsAsync())["INBOX"];

    public static Task WaitUntilInboxEmptyAsync(this TestDovecot dovecot, TimeSpan? timeout = null) =>
        WaitForAsync(async () => await dovecot.InboxCountAsync() == 0, "the inbox is empty", timeout);

    public static Task<MailboxState> StateAsync(this AppFactory app) =>
        app.WithDbAsync(db => db.MailboxStates.AsNoTracking().SingleAsync(s => s.Id == MailboxState.SingleId));

    public static Task<List<MailboxMail>> RecordsAsync(this AppFactory app) =>
        app.WithDbAsync(db => db.MailboxMails.AsNoTracking().OrderBy(m => m.Id).ToListAsync());

    public static Task<int> RecordCountAsync(this AppFactory app) => app.WithDbAsync(db => db.MailboxMails.CountAsync());

    /// <summary>The app with the reader started (the host starts on first use of its services).</summary>
    public static AppFactory Started(this AppFactory app)
    {
        _ = app.Services;
        return app;
    }

    public static byte[] Sha256(byte[] raw) => SHA256.HashData(raw);
}
