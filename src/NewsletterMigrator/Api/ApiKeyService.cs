using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Api;

public enum ApiKeyRefusal { NameMissing, NameTooLong, NameTaken, NoScope, UnknownScope, UnknownNewsletter, ExpiryPassed }

/// <summary>A new key: <see cref="Secret"/> is its only appearance, or the refusal with what it is about (a scope, a slug).</summary>
public sealed record ApiKeyCreation(string? Secret, ApiKey? Key, ApiKeyRefusal? Refusal = null, string? About = null);

/// <summary>What a request's key is, read on every API request (revocation takes effect on the next one, on every instance).</summary>
public sealed record ApiCaller(int Id, string Name, IReadOnlyList<string> Scopes, IReadOnlyList<int> NewsletterIds,
    DateTime? ExpiresAtUtc, DateTime? RevokedAtUtc, DateTime? LastUsedAtUtc);

/// <summary>Creates, lists, revokes and finds API keys. Creating and revoking are audited with the staff member.</summary>
public sealed class ApiKeyService(AppDbContext db, TimeProvider clock)
{
    /// <summary>Last use is written at most this often per key: a busy CMS costs no write per request.</summary>
    public static readonly TimeSpan LastUseResolution = TimeSpan.FromMinutes(1);

    public const int NameMaxLength = 100;

    public async Task<ApiKeyCreation> CreateAsync(string? name, IEnumerable<string> scopes, IEnumerable<string> newsletterSlugs,
        DateTime? expiresAtUtc, string createdBy, CancellationToken ct = default)
    {
        name = name?.Trim() ?? "";
        if (name.Length == 0) return new(null, null, ApiKeyRefusal.NameMissing);
        if (name.Length > NameMaxLength) return new(null, null, ApiKeyRefusal.NameTooLong, NameMaxLength.ToString());
        var (known, unknown) = ApiScopes.Parse(string.Join(' ', scopes));
        if (unknown.Count > 0) return new(null, null, ApiKeyRefusal.UnknownScope, string.Join(", ", unknown));
        if (known.Count == 0) return new(null, null, ApiKeyRefusal.NoScope);
        var now = clock.GetUtcNow().UtcDateTime;
        if (expiresAtUtc <= now) return new(null, null, ApiKeyRefusal.ExpiryPassed);
        var slugs = newsletterSlugs.Select(s => s.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        var newsletters = await db.Newsletters.AsNoTracking().Where(n => slugs.Contains(n.Slug)).Select(n => new { n.Id, n.Slug }).ToListAsync(ct);
        if (slugs.Except(newsletters.Select(n => n.Slug)).ToList() is { Count: > 0 } missing)
            return new(null, null, ApiKeyRefusal.UnknownNewsletter, string.Join(", ", missing));
        if (await db.ApiKeys.AnyAsync(k => k.Name == name, ct)) return new(null, null, ApiKeyRefusal.NameTaken, name);

        var secret = ApiKeySecret.Create();
        var key = new ApiKey
        {
            Name = name,
            Prefix = ApiKeySecret.PrefixOf(secret),
            SecretHash = ApiKeySecret.Hash(secret),
            Scopes = string.Join(' ', ApiScopes.All.Where(known.Contains)),
            ExpiresAtUtc = expiresAtUtc,
            CreatedBy = createdBy,
            CreatedAtUtc = now,
            Newsletters = [.. newsletters.Select(n => new ApiKeyNewsletter { NewsletterId = n.Id })],
        };
        db.ApiKeys.Add(key);
        db.Audit(createdBy, "api-key", $"created key {name} ({key.Prefix}…) with {key.Scopes}"
            + (slugs.Count > 0 ? $" for {string.Join(", ", slugs)}" : "") + (expiresAtUtc is { } e ? $", expires {e:u}" : ""), now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (UniqueViolation.Is(ex))
        {
            // The same name created at the same moment elsewhere: the unique index held.
            return new(null, null, ApiKeyRefusal.NameTaken, name);
        }
        return new(secret, key);
    }

    public Task<List<ApiKey>> ListAsync(CancellationToken ct = default) =>
        db.ApiKeys.AsNoTracking().Include(k => k.Newsletters).OrderBy(k => k.RevokedAtUtc != null).ThenBy(k => k.Name).ToListAsync(ct);

    /// <summary>Revokes at once (the next request with it is refused); false when there is no such key or it was revoked already.</summary>
    public async Task<bool> RevokeAsync(int id, string revokedBy, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await db.ApiKeys.Where(k => k.Id == id && k.RevokedAtUtc == null)
            .ExecuteUpdateAsync(u => u.SetProperty(k => k.RevokedAtUtc, now).SetProperty(k => k.RevokedBy, revokedBy), ct);
        if (changed == 0) return false;
        var name = await db.ApiKeys.Where(k => k.Id == id).Select(k => k.Name).SingleAsync(ct);
        db.Audit(revokedBy, "api-key", $"revoked key {name}", now);
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>The key a request presents, or null for none of ours. Well-formed keys only reach the database.</summary>
    public async Task<ApiCaller?> FindAsync(string presented, CancellationToken ct = default)
    {
        if (!ApiKeySecret.LooksValid(presented)) return null;
        var hash = ApiKeySecret.Hash(presented);
        var key = await db.ApiKeys.AsNoTracking().Where(k => k.SecretHash == hash)
            .Select(k => new { k.Id, k.Name, k.Scopes, k.SecretHash, k.ExpiresAtUtc, k.RevokedAtUtc, k.LastUsedAtUtc, Newsletters = k.Newsletters.Select(n => n.NewsletterId).ToList() })
            .SingleOrDefaultAsync(ct);
        // The index found the row; the fixed-time comparison is the check itself.
        if (key is null || !ApiKeySecret.Matches(presented, key.SecretHash)) return null;
        return new ApiCaller(key.Id, key.Name, key.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), key.Newsletters,
            key.ExpiresAtUtc, key.RevokedAtUtc, key.LastUsedAtUtc);
    }

    /// <summary>Records the use unless it was recorded less than <see cref="LastUseResolution"/> ago (also by another instance).</summary>
    public async Task TouchAsync(ApiCaller caller, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = now - LastUseResolution;
        if (caller.LastUsedAtUtc > due) return;
        await db.ApiKeys.Where(k => k.Id == caller.Id && (k.LastUsedAtUtc == null || k.LastUsedAtUtc <= due))
            .ExecuteUpdateAsync(u => u.SetProperty(k => k.LastUsedAtUtc, now), ct);
    }
}
