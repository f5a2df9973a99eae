using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>What became of an uploaded logo: stored, or refused with the message to show (nothing changed).</summary>
public sealed record LogoOutcome(bool Stored, string? MessageKey = null, object[]? MessageArgs = null)
{
    public static readonly LogoOutcome Done = new(true);
}

/// <summary>
/// A newsletter's optional logo: checked and cleaned by <see cref="NewsletterLogoPng"/>, stored in
/// <see cref="NewsletterLogo"/> with its size and hash on the newsletter, removable. The admin page and the
/// <c>update-newsletter --logo</c> verb both come through here.
/// </summary>
public sealed class NewsletterLogos(AppDbContext db, TimeProvider clock)
{
    /// <summary>The fingerprinted address of the newsletter's logo, or null when it has none.</summary>
    public static string? UrlFor(Newsletter n) =>
        string.IsNullOrEmpty(n.LogoSha256) ? null : $"/n/{Uri.EscapeDataString(n.Slug)}/logo/{n.LogoSha256}.png";

    public async Task<LogoOutcome> SetAsync(int newsletterId, Stream file, long length, string user)
    {
        if (length > NewsletterLogoPng.MaxUploadBytes) return Refused(LogoRefusal.TooLarge, (int)Math.Min(length / 1024, int.MaxValue), 0, 0);
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer);
        var (logo, refusal, width, height) = NewsletterLogoPng.Clean(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        if (logo is null) return Refused(refusal!.Value, (int)(buffer.Length / 1024), width, height);

        var newsletter = await db.Newsletters.SingleAsync(n => n.Id == newsletterId);
        var sha = Convert.ToHexStringLower(SHA256.HashData(logo.Content));
        var now = clock.GetUtcNow().UtcDateTime;
        var stored = await db.NewsletterLogos.SingleOrDefaultAsync(l => l.NewsletterId == newsletterId);
        if (stored is null)
        {
            db.NewsletterLogos.Add(new NewsletterLogo
            {
                NewsletterId = newsletterId, Content = logo.Content, ContentType = NewsletterLogoPng.ContentType, Sha256 = sha, UploadedAtUtc = now,
            });
        }
        else
        {
            stored.Content = logo.Content;
            stored.ContentType = NewsletterLogoPng.ContentType;
            stored.Sha256 = sha;
            stored.UploadedAtUtc = now;
        }
        newsletter.LogoSha256 = sha;
        newsletter.LogoWidth = logo.Width;
        newsletter.LogoHeight = logo.Height;
        db.Audit(user, "settings", $"logo of newsletter {newsletter.Slug} set ({logo.Width}x{logo.Height}, {logo.Content.Length} bytes)", now);
        await db.SaveChangesAsync();
        return LogoOutcome.Done;
    }

    /// <summary>Removes the logo; false when there was none.</summary>
    public async Task<bool> RemoveAsync(int newsletterId, string user)
    {
        var newsletter = await db.Newsletters.SingleAsync(n => n.Id == newsletterId);
        var stored = await db.NewsletterLogos.SingleOrDefaultAsync(l => l.NewsletterId == newsletterId);
        if (stored is null && newsletter.LogoSha256 is null) return false;
        if (stored is not null) db.NewsletterLogos.Remove(stored);
        newsletter.LogoSha256 = null;
        newsletter.LogoWidth = 0;
        newsletter.LogoHeight = 0;
        db.Audit(user, "settings", $"logo of newsletter {newsletter.Slug} removed", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        return true;
    }

    private static LogoOutcome Refused(LogoRefusal refusal, int kilobytes, int width, int height) => refusal switch
    {
        LogoRefusal.NoFile => new(false, "Logo_NoFile"),
        LogoRefusal.NotPng => new(false, "Logo_NotPng"),
        LogoRefusal.Broken => new(false, "Logo_Broken"),
        LogoRefusal.TooManyPixels => new(false, "Logo_TooManyPixels", [width, height, NewsletterLogoPng.MaxSide, NewsletterLogoPng.MaxPixels.ToString("N0")]),
        _ => new(false, "Logo_TooLarge", [kilobytes, NewsletterLogoPng.MaxStoredBytes / 1024]),
    };
}

/// <summary>
/// The logo bytes the endpoint serves, keyed by their SHA-256: the key is the content, so an entry can never be stale.
/// Which logo a newsletter shows now is not decided here but by its <see cref="Newsletter.LogoSha256"/> in
/// <c>Consent.ReaderCache</c>, which a change on this instance updates at once (its save passes the reader-data
/// interceptor). Capped at 1 MB: about 40 logos at the 24 KB limit.
/// </summary>
public sealed class LogoBytesCache : IDisposable
{
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = 1024 * 1024 });

    public async Task<NewsletterLogo?> FindAsync(int newsletterId, string sha256, AppDbContext db)
    {
        if (_cache.TryGetValue(sha256, out NewsletterLogo? cached)) return cached;
        var logo = await db.NewsletterLogos.AsNoTracking().SingleOrDefaultAsync(l => l.NewsletterId == newsletterId && l.Sha256 == sha256);
        // Only logos that exist are kept; a replaced one leaves after an hour unasked.
        if (logo is not null)
            _cache.Set(sha256, logo, new MemoryCacheEntryOptions { Size = logo.Content.Length, SlidingExpiration = TimeSpan.FromHours(1) });
        return logo;
    }

    public void Dispose() => _cache.Dispose();
}
