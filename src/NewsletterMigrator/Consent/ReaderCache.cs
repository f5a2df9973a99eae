using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>
/// The newsletters and their current consent-text versions as the reader pages show them, from memory (issue 17).
/// Before, every GET /n/{slug} ran three queries (newsletter, current version, the imports' legal bases) and rebuilt
/// and hashed the whole Art. 13 text: about 45 % of the page's time in the profile (PROFILE.md of issue 17).
/// <list type="bullet">
/// <item>An edit in this process takes effect at once: every save of reader data moves <see cref="ReaderDataChanges"/>,
/// and an entry loaded under an older value is not used again.</item>
/// <item>Another instance's edit takes effect here after at most <see cref="ConsentOptions.ReaderCacheLifetime"/>
/// (absolute, default 5 s). What that staleness can and cannot do: a sign-up POST re-reads the newsletter inside its
/// own transaction and refuses when it is no longer open (C38), so a stale "open" only shows a form for a few seconds;
/// and the POST records the version id the form carried, read again from the database (C7), never this cache's idea
/// of "current".</item>
/// </list>
/// The objects handed out are shared between requests: callers must treat them as read-only.
/// </summary>
public sealed class ReaderCache(IServiceScopeFactory scopes, ReaderDataChanges changes, IOptions<ConsentOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Kind, string Key), Entry> _entries = new();

    private sealed record Entry(Task<object?> Value, long Version, DateTimeOffset Expires);

    public async Task<Newsletter?> NewsletterBySlugAsync(string slug) =>
        (Newsletter?)await GetAsync(("slug", slug), async db => await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Slug == slug));

    public async Task<Newsletter?> NewsletterAsync(int id) =>
        (Newsletter?)await GetAsync(("id", id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            async db => await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == id));

    /// <summary>Every newsletter by id, for the pages that must pick one (a forged invitation link, the portal's footer).</summary>
    public async Task<IReadOnlyList<Newsletter>> AllNewslettersAsync() =>
        (IReadOnlyList<Newsletter>)(await GetAsync(("all", ""), async db => await db.Newsletters.AsNoTracking().OrderBy(n => n.Id).ToListAsync()))!;

    /// <summary>
    /// The version a reader of this newsletter is shown in the language (<see cref="ConsentTextService.ShowToReaderAsync"/>):
    /// loaded, and if need be stored and fixed as seen, once per cache lifetime instead of on every page.
    /// </summary>
    public async Task<ConsentText?> ConsentTextAsync(Newsletter newsletter, string language) =>
        (ConsentText?)await GetAsync(("text", $"{newsletter.Id}/{language}"), async (db, services) =>
            await services.GetRequiredService<ConsentTextService>().ShowToReaderAsync(newsletter, language));

    private Task<object?> GetAsync((string, string) key, Func<AppDbContext, Task<object?>> load) => GetAsync(key, (db, _) => load(db));

    private async Task<object?> GetAsync((string, string) key, Func<AppDbContext, IServiceProvider, Task<object?>> load)
    {
        var lifetime = options.Value.ReaderCacheLifetime;
        var version = changes.Version;
        if (lifetime <= TimeSpan.Zero) return await LoadAsync(load);
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.Version == version && entry.Expires > now && !entry.Value.IsFaulted)
            return await entry.Value;
        // Requests that miss together share one load: a burst after an edit or an expiry costs one round of queries.
        var fresh = new Entry(LoadAsync(load), version, now + lifetime);
        entry = _entries.AddOrUpdate(key, fresh, (_, old) => old.Version == version && old.Expires > now && !old.Value.IsFaulted ? old : fresh);
        var value = await entry.Value;
        if (changes.Version != version) _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, entry)); // an edit raced the load
        return value;
    }

    private async Task<object?> LoadAsync(Func<AppDbContext, IServiceProvider, Task<object?>> load)
    {
        // Its own scope: the load outlives the request that started it when other requests wait for it too.
        await using var scope = scopes.CreateAsyncScope();
        return await load(scope.ServiceProvider.GetRequiredService<AppDbContext>(), scope.ServiceProvider);
    }
}
