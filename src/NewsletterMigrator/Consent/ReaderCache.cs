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
/// <item>The keys are bounded by what exists: newsletters by slug or id are looked up in the one cached list of all
/// newsletters, never cached per asked slug (GET /n/{any slug} is not rate-limited: a key per unknown slug let anyone
/// grow the cache without end); consent texts are keyed by newsletter id and a supported language.</item>
/// </list>
/// The objects handed out are shared between requests: callers must treat them as read-only.
/// </summary>
public sealed class ReaderCache(IServiceScopeFactory scopes, ReaderDataChanges changes, IOptions<ConsentOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<(string Kind, string Key), Entry> _entries = new();
    private long _loads;

    private sealed record Entry(Lazy<Task<object?>> Value, long Version, DateTimeOffset Expires)
    {
        public bool Failed => Value.IsValueCreated && Value.Value.IsFaulted;
    }

    /// <summary>All newsletters of one load, with the two lookups the pages need.</summary>
    private sealed record Newsletters(IReadOnlyList<Newsletter> All, IReadOnlyDictionary<string, Newsletter> BySlug, IReadOnlyDictionary<int, Newsletter> ById);

    /// <summary>Entries held now (tests: unknown slugs must not add any).</summary>
    internal int Count => _entries.Count;

    /// <summary>Loads run so far (tests: requests that miss together share one).</summary>
    internal long Loads => Interlocked.Read(ref _loads);

    public async Task<Newsletter?> NewsletterBySlugAsync(string slug) =>
        (await NewslettersAsync()).BySlug.GetValueOrDefault(slug);

    public async Task<Newsletter?> NewsletterAsync(int id) => (await NewslettersAsync()).ById.GetValueOrDefault(id);

    /// <summary>Every newsletter by id, for the pages that must pick one (a forged invitation link, the portal's footer).</summary>
    public async Task<IReadOnlyList<Newsletter>> AllNewslettersAsync() => (await NewslettersAsync()).All;

    private async Task<Newsletters> NewslettersAsync() =>
        (Newsletters)(await GetAsync(("all", ""), async db =>
        {
            var all = await db.Newsletters.AsNoTracking().OrderBy(n => n.Id).ToListAsync();
            // Ordinal, as SQLite compares the slug column (binary collation).
            return new Newsletters(all, all.ToDictionary(n => n.Slug, StringComparer.Ordinal), all.ToDictionary(n => n.Id));
        }))!;

    /// <summary>
    /// The version a reader of this newsletter is shown in the language (<see cref="ConsentTextService.ShowToReaderAsync"/>):
    /// loaded, and if need be stored and fixed as seen, once per cache lifetime instead of on every page. The text is
    /// composed from the newsletter as stored now, read again inside the load: the caller's copy may be up to one cache
    /// lifetime old (or raced by an edit), and a version stored from it would carry a legal identity that is no longer
    /// the newsletter's (C7, C43) and make the next page store yet another version.
    /// </summary>
    public async Task<ConsentText?> ConsentTextAsync(Newsletter newsletter, string language)
    {
        var id = newsletter.Id;
        return (ConsentText?)await GetAsync(("text", $"{id}/{language}"), async (db, services) =>
            await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(n => n.Id == id) is { } current
                ? await services.GetRequiredService<ConsentTextService>().ShowToReaderAsync(current, language)
                : null);
    }

    private Task<object?> GetAsync((string, string) key, Func<AppDbContext, Task<object?>> load) => GetAsync(key, (db, _) => load(db));

    private async Task<object?> GetAsync((string, string) key, Func<AppDbContext, IServiceProvider, Task<object?>> load)
    {
        var lifetime = options.Value.ReaderCacheLifetime;
        var version = changes.Version;
        if (lifetime <= TimeSpan.Zero) return await LoadAsync(load);
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry) && entry.Version == version && entry.Expires > now && !entry.Failed)
            return await entry.Value.Value;
        // Requests that miss together share one load: the entry goes into the dictionary before anything loads, and only
        // the request whose entry won starts it (Microsoft.Data.Sqlite runs "async" calls synchronously, so a load started
        // before AddOrUpdate ran to its end in every request that missed, consent-text stores included).
        var fresh = new Entry(new Lazy<Task<object?>>(() => LoadAsync(load)), version, now + lifetime);
        entry = _entries.AddOrUpdate(key, fresh, (_, old) => old.Version == version && old.Expires > now && !old.Failed ? old : fresh);
        var value = await entry.Value.Value;
        if (changes.Version != version) _entries.TryRemove(new KeyValuePair<(string, string), Entry>(key, entry)); // an edit raced the load
        return value;
    }

    private async Task<object?> LoadAsync(Func<AppDbContext, IServiceProvider, Task<object?>> load)
    {
        Interlocked.Increment(ref _loads);
        // Its own scope: the load outlives the request that started it when other requests wait for it too.
        await using var scope = scopes.CreateAsyncScope();
        return await load(scope.ServiceProvider.GetRequiredService<AppDbContext>(), scope.ServiceProvider);
    }
}
