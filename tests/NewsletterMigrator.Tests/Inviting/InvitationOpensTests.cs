using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The "opened" stamps are written off the request (InvitationOpens, issue 17). A write that fails (here a real SQLite
/// error raised by a trigger, as a full disk or a lock held past the busy timeout would) must neither lose the opens
/// nor stop the writer for the rest of the process's life.
/// </summary>
public sealed class InvitationOpensTests
{
    [Fact]
    public async Task Opens_whose_write_failed_are_written_later_and_later_opens_still_are()
    {
        // SQLite: a trigger in its syntax plays the full disk.
        await using var app = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await app.NewsletterAsync();
        var links = await app.InvitationsAsync(newsletter, "0160 1111111", "0171 2222222");
        var reader = app.CreateClient();
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone)");

        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_writes BEFORE UPDATE ON Contacts BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;"));
        await reader.GetStringAsync(links[0]);
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the writer's first try (after its 0.5 s window) fails
        Assert.Equal(0, await app.WithDbAsync(db => db.Contacts.CountAsync(c => c.OpenedAtUtc != null)));

        await app.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_writes;"));
        await reader.GetStringAsync(links[1]);

        // No FlushAsync: the background writer itself must get there.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await app.WithDbAsync(db => db.Contacts.CountAsync(c => c.OpenedAtUtc != null)) < 2 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Equal(2, await app.WithDbAsync(db => db.Contacts.CountAsync(c => c.OpenedAtUtc != null)));
    }
}
