using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

public sealed class ConsentTextTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_version_a_reader_has_seen_never_changes_editing_creates_a_new_one_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        await using var scope = _app.Services.CreateAsyncScope();
        var texts = scope.ServiceProvider.GetRequiredService<ConsentTextService>();

        // Unseen: a correction stays version 1.
        var v1 = await texts.SaveAsync(newsletter.Id, "de", "Ja, ich will.", "Info", "", "1");
        Assert.Equal(1, v1.Version);
        Assert.Equal(ConsentTextService.Sha256("Ja, ich will.", "Info", "", "1"), v1.Sha256);

        // A reader sees it, so the next edit is version 2 and version 1 keeps its words and hash.
        using (var client = _app.CreateClient()) await client.GetStringAsync("/n/eilmeldungen");
        var v2 = await texts.SaveAsync(newsletter.Id, "de", "Ja, ich will den Newsletter.", "Info", "", "1");
        Assert.Equal(2, v2.Version);
        var stored = await _app.WithDbAsync(db => db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Id == v1.Id));
        Assert.Equal("Ja, ich will.", stored.Statement);
        Assert.Equal(v1.Sha256, stored.Sha256);
    }

    [Fact]
    public async Task The_consent_ledger_is_append_only()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.ConsentEvents.Add(new ConsentEvent { SubscriberId = Guid.NewGuid(), NewsletterId = 1, Kind = ConsentEventKind.SignUp, OccurredAtUtc = DateTime.UtcNow });
        await db.SaveChangesAsync();
        var entry = await db.ConsentEvents.SingleAsync();
        entry.IpAddress = "203.0.113.9";
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        db.ChangeTracker.Clear();
        db.ConsentEvents.Remove(await db.ConsentEvents.SingleAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
    }
}
