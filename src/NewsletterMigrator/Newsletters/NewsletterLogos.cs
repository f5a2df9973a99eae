using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// What became of an uploaded logo: stored, or refused with the message to show (nothing changed). A stored SVG may
/// carry notes for the editor: what the cleaning took out, and why mails show the name when no PNG could be drawn.
/// </summary>
public sealed record LogoOutcome(bool Stored, string? MessageKey = null, object[]? MessageArgs = null)
{
    public static readonly LogoOutcome Done = new(true);

    public IReadOnlyList<(string Key, object[] Args)> Notes { get; init; } = [];
}

/// <summary>The logo as a mail shows it: always a PNG (mail clients show no SVG), with its pixel size; the URL relative to the site.</summary>
public sealed record MailLogo(string Url, int Width, int Height);

/// <summary>
/// A newsletter's optional logo, PNG or SVG as its content says (not its name): a PNG checked and cleaned by
/// <see cref="NewsletterLogoPng"/>, an SVG cleaned by <see cref="NewsletterLogoSvg"/> and drawn as a PNG for mails by
/// <see cref="NewsletterLogoRaster"/>. Stored in <see cref="NewsletterLogo"/> with its size, kind and hash on the
/// newsletter, removable. The admin page and the <c>update-newsletter --logo</c> verb both come through here.
/// </summary>
public sealed class NewsletterLogos(AppDbContext db, TimeProvider clock, ILogger<NewsletterLogos> logger)
{
    /// <summary>The largest upload read at all: the larger of the two formats' upload limits.</summary>
    public static readonly int MaxUploadBytes = Math.Max(NewsletterLogoPng.MaxUploadBytes, NewsletterLogoSvg.MaxUploadBytes);

    /// <summary>The fingerprinted address of the newsletter's logo for pages (.svg for an SVG logo, else .png), or null when it has none.</summary>
    public static string? UrlFor(Newsletter n) => string.IsNullOrEmpty(n.LogoSha256) ? null : LogoPath(n, n.LogoSvg ? "svg" : "png");

    private static string LogoPath(Newsletter n, string extension) => $"/n/{Uri.EscapeDataString(n.Slug)}/logo/{n.LogoSha256}.{extension}";

    /// <summary>The logo as mails show it, with the size for the img's width and height; null: mails show the name as text.</summary>
    public static MailLogo? MailLogoFor(Newsletter n)
    {
        if (string.IsNullOrEmpty(n.LogoSha256)) return null;
        var (width, height) = n.LogoSvg ? (n.LogoMailWidth, n.LogoMailHeight) : (n.LogoWidth, n.LogoHeight);
        return width > 0 && height > 0 ? new MailLogo(LogoPath(n, "png"), width, height) : null;
    }

    public async Task<LogoOutcome> SetAsync(int newsletterId, Stream file, long length, string user)
    {
        if (length > MaxUploadBytes) return Refused(LogoRefusal.TooLarge, (int)Math.Min(length / 1024, int.MaxValue), 0, 0);
        using var buffer = new MemoryStream();
        await file.CopyToAsync(buffer);
        if (buffer.Length > MaxUploadBytes) return Refused(LogoRefusal.TooLarge, (int)(buffer.Length / 1024), 0, 0);
        var bytes = buffer.ToArray();
        if (NewsletterLogoSvg.LooksLikeXml(bytes)) return await SetSvgAsync(newsletterId, bytes, user);

        var (logo, refusal, width, height) = NewsletterLogoPng.Clean(bytes);
        if (logo is null) return Refused(refusal!.Value, bytes.Length / 1024, width, height);
        var newsletter = await db.Newsletters.SingleAsync(n => n.Id == newsletterId);
        var now = await StoreAsync(newsletter, logo.Content, NewsletterLogoPng.ContentType, mailPng: null);
        SetShape(newsletter, svg: false, logo.Width, logo.Height, mailWidth: 0, mailHeight: 0);
        db.Audit(user, "settings", $"logo of newsletter {newsletter.Slug} set ({logo.Width}x{logo.Height}, {logo.Content.Length} bytes)", now);
        await db.SaveChangesAsync();
        return LogoOutcome.Done;
    }

    private async Task<LogoOutcome> SetSvgAsync(int newsletterId, byte[] bytes, string user)
    {
        var (svg, refusal, detail) = NewsletterLogoSvg.Clean(bytes);
        if (svg is null) return RefusedSvg(refusal!.Value, detail);
        var (png, problem) = NewsletterLogoRaster.Render(svg);
        if (problem == LogoRasterProblem.NoRenderer)
            logger.LogWarning("SVG logo stored without a mail PNG: Skia's native library does not load on this machine; mails show the newsletter's name instead.");

        var newsletter = await db.Newsletters.SingleAsync(n => n.Id == newsletterId);
        var now = await StoreAsync(newsletter, svg.Content, NewsletterLogoSvg.ContentType, png?.Content);
        var (width, height) = svg.PixelSize;
        SetShape(newsletter, svg: true, width, height, png?.Width ?? 0, png?.Height ?? 0);
        var removed = svg.RemovedElements.Count > 0 || svg.RemovedAttributes > 0
            ? $"; removed elements: {(svg.RemovedElements.Count > 0 ? string.Join(", ", svg.RemovedElements) : "none")}, attributes or declarations: {svg.RemovedAttributes}"
            : "";
        var mail = png is not null ? $"mail PNG {png.Width}x{png.Height}, {png.Content.Length} bytes" : $"no mail PNG ({problem})";
        db.Audit(user, "settings", $"logo of newsletter {newsletter.Slug} set (SVG {svg.Content.Length} bytes, {mail}{removed})", now);
        await db.SaveChangesAsync();

        var notes = new List<(string, object[])>();
        if (svg.RemovedElements.Count > 0)
            notes.Add(("LogoSvg_Cleaned", [string.Join(", ", svg.RemovedElements.Take(8)) + (svg.RemovedElements.Count > 8 ? ", …" : ""), svg.RemovedAttributes]));
        else if (svg.RemovedAttributes > 0)
            notes.Add(("LogoSvg_CleanedAttributes", [svg.RemovedAttributes]));
        if (problem is { } p) notes.Add(($"LogoSvg_NoMailPng{p}", [NewsletterLogoPng.MaxStoredBytes / 1024]));
        return LogoOutcome.Done with { Notes = notes };
    }

    /// <summary>Writes the logo row (new or replaced) and its hash onto the newsletter; returns the time of the change.</summary>
    private async Task<DateTime> StoreAsync(Newsletter newsletter, byte[] content, string contentType, byte[]? mailPng)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var now = clock.GetUtcNow().UtcDateTime;
        var stored = await db.NewsletterLogos.SingleOrDefaultAsync(l => l.NewsletterId == newsletter.Id);
        if (stored is null)
        {
            db.NewsletterLogos.Add(new NewsletterLogo
            {
                NewsletterId = newsletter.Id, Content = content, ContentType = contentType, Sha256 = sha, UploadedAtUtc = now, MailPng = mailPng,
            });
        }
        else
        {
            stored.Content = content;
            stored.ContentType = contentType;
            stored.Sha256 = sha;
            stored.UploadedAtUtc = now;
            stored.MailPng = mailPng;
        }
        newsletter.LogoSha256 = sha;
        return now;
    }

    /// <summary>What the newsletter keeps of its logo besides the hash: its kind, its size for pages, and its mail PNG's size (an SVG's raster; 0: none or a PNG logo).</summary>
    private static void SetShape(Newsletter newsletter, bool svg, int width, int height, int mailWidth, int mailHeight)
    {
        newsletter.LogoSvg = svg;
        newsletter.LogoWidth = width;
        newsletter.LogoHeight = height;
        newsletter.LogoMailWidth = mailWidth;
        newsletter.LogoMailHeight = mailHeight;
    }

    /// <summary>Removes the logo; false when there was none.</summary>
    public async Task<bool> RemoveAsync(int newsletterId, string user)
    {
        var newsletter = await db.Newsletters.SingleAsync(n => n.Id == newsletterId);
        var stored = await db.NewsletterLogos.SingleOrDefaultAsync(l => l.NewsletterId == newsletterId);
        if (stored is null && newsletter.LogoSha256 is null) return false;
        if (stored is not null) db.NewsletterLogos.Remove(stored);
        newsletter.LogoSha256 = null;
        SetShape(newsletter, svg: false, 0, 0, 0, 0);
        db.Audit(user, "settings", $"logo of newsletter {newsletter.Slug} removed", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        return true;
    }

    private static LogoOutcome Refused(LogoRefusal refusal, int kilobytes, int width, int height) => refusal switch
    {
        LogoRefusal.NoFile => new(false, "LogoSvg_NoFile"),
        LogoRefusal.NotPng => new(false, "LogoSvg_NotImage"),
        LogoRefusal.Broken => new(false, "Logo_Broken"),
        LogoRefusal.TooManyPixels => new(false, "Logo_TooManyPixels", [width, height, NewsletterLogoPng.MaxSide, NewsletterLogoPng.MaxPixels.ToString("N0")]),
        _ => new(false, "Logo_TooLarge", [kilobytes, NewsletterLogoPng.MaxStoredBytes / 1024]),
    };

    private static LogoOutcome RefusedSvg(LogoSvgRefusal refusal, int detail) => refusal switch
    {
        LogoSvgRefusal.Broken => new(false, "LogoSvg_Broken", [detail]),
        LogoSvgRefusal.TooLarge => new(false, "LogoSvg_TooLarge", [detail, NewsletterLogoSvg.MaxStoredBytes / 1024]),
        LogoSvgRefusal.TooComplex => new(false, "LogoSvg_TooComplex", [detail.ToString("N0"), NewsletterLogoSvg.MaxElements.ToString("N0")]),
        _ => new(false, $"LogoSvg_{refusal}"),
    };
}

/// <summary>
/// The logo bytes the endpoint serves, keyed by their SHA-256: the key is the content, so an entry can never be stale.
/// Which logo a newsletter shows now is not decided here but by its <see cref="Newsletter.LogoSha256"/> in
/// <c>Consent.ReaderCache</c>, which a change on this instance updates at once (its save passes the reader-data
/// interceptor). Capped at 1 MB: about 20 SVG logos with their mail PNGs at the 24 KB limits, 40 PNG logos.
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
            _cache.Set(sha256, logo, new MemoryCacheEntryOptions { Size = logo.Content.Length + (logo.MailPng?.Length ?? 0), SlidingExpiration = TimeSpan.FromHours(1) });
        return logo;
    }

    public void Dispose() => _cache.Dispose();
}
