using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc.ViewFeatures;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace NewsletterMigrator;

/// <summary>
/// The root wwwroot, served light (issue 17): text files compressed once and kept in memory, fingerprinted URLs cached
/// for a year. MapStaticAssets would do this from a build manifest, but it only knows the project folder (ARCHITECTURE.md),
/// so the root wwwroot keeps UseStaticFiles and this sits in front of it.
/// </summary>
public static class StaticAssets
{
    /// <summary>For a URL whose <c>?v=</c> (asp-append-version) is the file's current hash: it can never change.</summary>
    internal const string Immutable = "public, max-age=31536000, immutable";

    /// <summary>Any other static URL: the browser keeps it but asks each time (a 304 with the ETag costs no body).</summary>
    internal const string Revalidate = "no-cache";

    public static IServiceCollection AddStaticAssets(this IServiceCollection services) => services.AddSingleton<CompressedStaticFileStore>();

    public static IApplicationBuilder UseStaticAssets(this IApplicationBuilder app)
    {
        app.UseMiddleware<CompressedStaticFiles>();
        // What the compressed path does not answer (images, a client that accepts no compression): the same headers.
        app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = file =>
            {
                file.Context.Response.Headers.CacheControl = CacheControl(file.Context);
                if (CompressedStaticFiles.Compressible(file.File.Name)) file.Context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
            },
        });
        return app;
    }

    /// <summary>
    /// Immutable only when the <c>?v=</c> is the hash of the file served now: during a deploy an old page may ask for an
    /// old version (or a new page reach an old instance), and a year-long cache must never hold the wrong content.
    /// </summary>
    internal static string CacheControl(HttpContext context)
    {
        var asked = context.Request.Query["v"];
        if (asked.Count != 1 || string.IsNullOrEmpty(asked[0])) return Revalidate;
        var versions = context.RequestServices.GetRequiredService<IFileVersionProvider>();
        var current = versions.AddFileVersionToPath(context.Request.PathBase, context.Request.PathBase + context.Request.Path);
        var at = current.IndexOf("?v=", StringComparison.Ordinal);
        return at >= 0 && current.AsSpan(at + 3).SequenceEqual(asked[0]) ? Immutable : Revalidate;
    }
}

/// <summary>
/// The compressed files in memory, one entry per file on disk (a singleton, so tests can see how many there are).
/// </summary>
internal sealed class CompressedStaticFileStore
{
    /// <summary>
    /// More than wwwroot holds (17 files today): keyed by the file's physical path the count cannot grow with the URLs
    /// asked, but a bound keeps that true whatever a future file provider maps. Beyond it, files go out uncompressed.
    /// </summary>
    internal const int MaxEntries = 256;

    internal ConcurrentDictionary<string, Lazy<Task<CompressedStaticFiles.Compressed?>>> Files { get; } = new(StringComparer.Ordinal);

    private long _compressions;

    /// <summary>Compressions run so far (tests: many URLs of one file compress it once).</summary>
    internal long Compressions => Interlocked.Read(ref _compressions);

    internal void Counted() => Interlocked.Increment(ref _compressions);
}

/// <summary>
/// Answers a text file of wwwroot (CSS, JS, SVG…) with its Brotli or gzip form, made once and kept in memory until the
/// file changes (path, length and last-write time). A burst of first visits then costs no compression at all:
/// reader.css (about 20 KB) takes a few milliseconds at Brotli 11, once, instead of on every request.
/// Each encoding has its own strong ETag, so a 304 never confirms the wrong representation.
/// Entries are keyed by the file on disk, not by the URL: /css//reader.css and /css///reader.css name the same file, and
/// a key per URL let anyone add an entry and a fresh compression per variant (the 0.6 MB source map took 1.8 s of CPU at
/// Brotli 11). Such non-canonical URLs are not answered here at all.
/// </summary>
internal sealed class CompressedStaticFiles(RequestDelegate next, IWebHostEnvironment environment, CompressedStaticFileStore store,
    ILogger<CompressedStaticFiles> logger)
{
    // Text formats only: images and fonts are compressed already.
    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
        { ".css", ".js", ".mjs", ".map", ".json", ".svg", ".txt", ".html", ".xml", ".webmanifest" };

    // Larger files (none today; the biggest, a source map, is about 0.6 MB) are left to UseStaticFiles uncompressed.
    private const long MaxBytes = 4 * 1024 * 1024;

    // Above this, Brotli 5 instead of 11. Measured on this machine: bootstrap.min.css (227 KB) 9 ms and 28.3 KB at 5 against
    // 637 ms and 22.8 KB at 11; bootstrap.min.css.map (577 KB) 27 ms against 1.8 s. The reader pages' files are all smaller
    // (reader.css about 20 KB) and keep level 11; the large ones are the staff pages', fetched once and then cached.
    private const long MaxBytesAtHighestLevel = 64 * 1024;

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    internal static bool Compressible(string name) => TextExtensions.Contains(Path.GetExtension(name));

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if ((!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
            || !request.Path.HasValue || !Compressible(request.Path.Value)
            || request.Path.Value.Contains("//", StringComparison.Ordinal) // not a URL the app links to: served as it is
            || Encoding(request) is not { } encoding
            || environment.WebRootFileProvider.GetFileInfo(request.Path.Value) is not { Exists: true, IsDirectory: false } file
            || file.Length > MaxBytes
            || await CompressedAsync(file.PhysicalPath ?? request.Path.Value, file) is not { } compressed
            || (encoding == "br" ? compressed.Brotli : compressed.Gzip) is not { } body)
        {
            await next(context);
            return;
        }

        var response = context.Response;
        var etag = new EntityTagHeaderValue($"\"{compressed.Hash}-{encoding}\"");
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        response.Headers.CacheControl = StaticAssets.CacheControl(context);
        response.Headers.ETag = etag.ToString();
        response.Headers.LastModified = HeaderUtilities.FormatDate(compressed.LastModified);
        if (request.GetTypedHeaders().IfNoneMatch.Any(tag => tag.Equals(EntityTagHeaderValue.Any) || tag.Compare(etag, useStrongComparison: false)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = compressed.ContentType;
        response.Headers.ContentEncoding = encoding;
        response.ContentLength = body.Length;
        if (HttpMethods.IsGet(request.Method)) await response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>Brotli where the browser takes it (all current ones over HTTPS and on loopback), else gzip, else none.</summary>
    private static string? Encoding(HttpRequest request)
    {
        var accepted = request.GetTypedHeaders().AcceptEncoding;
        if (accepted.Count == 0) return null;
        foreach (var encoding in (string[])["br", "gzip"])
        {
            var named = accepted.FirstOrDefault(a => a.Value.Equals(encoding, StringComparison.OrdinalIgnoreCase))
                ?? accepted.FirstOrDefault(a => a.Value.Equals("*", StringComparison.Ordinal));
            if (named is not null && named.Quality is not 0) return encoding;
        }
        return null;
    }

    private async Task<Compressed?> CompressedAsync(string key, IFileInfo file)
    {
        var files = store.Files;
        if (!files.TryGetValue(key, out var entry))
        {
            if (files.Count >= CompressedStaticFileStore.MaxEntries) return null; // full: UseStaticFiles answers uncompressed
            // One compression per file version even when a burst asks for it at once: the Lazy is shared.
            entry = files.GetOrAdd(key, _ => new(() => CompressAsync(file)));
        }
        var compressed = await SafelyAsync(key, entry);
        if (compressed is null) return null;
        if (compressed.LastModified == file.LastModified && compressed.Length == file.Length) return compressed;
        var fresh = new Lazy<Task<Compressed?>>(() => CompressAsync(file));
        var current = files.AddOrUpdate(key, fresh, (_, now) => now == entry ? fresh : now);
        return await SafelyAsync(key, current);
    }

    /// <summary>
    /// A compression that failed or gave nothing is not kept: this request goes to UseStaticFiles (which answers, or 404s,
    /// or shows its own error), and the next one tries again. A kept failure would answer 500 for that file until restart.
    /// </summary>
    private async Task<Compressed?> SafelyAsync(string key, Lazy<Task<Compressed?>> entry)
    {
        Compressed? compressed;
        try
        {
            compressed = await entry.Value;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Compressing a static file failed; it goes out uncompressed");
            compressed = null;
        }
        if (compressed is null) store.Files.TryRemove(KeyValuePair.Create(key, entry));
        return compressed;
    }

    private async Task<Compressed?> CompressAsync(IFileInfo file)
    {
        if (!ContentTypes.TryGetContentType(file.Name, out var contentType)) return null;
        store.Counted();
        byte[] original;
        try
        {
            await using var stream = file.CreateReadStream();
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            original = buffer.ToArray();
        }
        catch (IOException)
        {
            return null; // replaced or removed while read: UseStaticFiles answers (or 404s), the next request tries again
        }
        var hash = Convert.ToHexStringLower(SHA256.HashData(original).AsSpan(0, 12));
        var large = original.Length > MaxBytesAtHighestLevel;
        return new Compressed(contentType, file.LastModified, file.Length, hash,
            Smaller(Brotli(original, quality: large ? 5 : 11), original), Smaller(Gzip(original, large ? CompressionLevel.Optimal : CompressionLevel.SmallestSize), original));
    }

    private static byte[] Brotli(byte[] original, int quality)
    {
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(original.Length)];
        return BrotliEncoder.TryCompress(original, output, out var written, quality, window: 22) ? output[..written] : original;
    }

    private static byte[] Gzip(byte[] original, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, level)) gzip.Write(original);
        return output.ToArray();
    }

    /// <summary>A tiny file can grow when compressed: then it goes out as it is.</summary>
    private static byte[]? Smaller(byte[] compressed, byte[] original) => compressed.Length < original.Length ? compressed : null;

    internal sealed record Compressed(string ContentType, DateTimeOffset LastModified, long Length, string Hash, byte[]? Brotli, byte[]? Gzip);
}
