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
/// Answers a text file of wwwroot (CSS, JS, SVG…) with its Brotli or gzip form, made once at the highest level and
/// kept in memory until the file changes (path, length and last-write time). A burst of first visits then costs no
/// compression at all: reader.css (about 20 KB) takes a few milliseconds at Brotli 11, once, instead of on every request.
/// Each encoding has its own strong ETag, so a 304 never confirms the wrong representation.
/// </summary>
internal sealed class CompressedStaticFiles(RequestDelegate next, IWebHostEnvironment environment)
{
    // Text formats only: images and fonts are compressed already.
    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
        { ".css", ".js", ".mjs", ".map", ".json", ".svg", ".txt", ".html", ".xml", ".webmanifest" };

    // Larger files (none today; the biggest, a source map, is about 0.6 MB) are left to UseStaticFiles uncompressed.
    private const long MaxBytes = 4 * 1024 * 1024;

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<Compressed?>>> _files = new(StringComparer.Ordinal);

    internal static bool Compressible(string name) => TextExtensions.Contains(Path.GetExtension(name));

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if ((!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
            || !request.Path.HasValue || !Compressible(request.Path.Value)
            || Encoding(request) is not { } encoding
            || environment.WebRootFileProvider.GetFileInfo(request.Path.Value) is not { Exists: true, IsDirectory: false } file
            || file.Length > MaxBytes
            || await CompressedAsync(request.Path.Value, file) is not { } compressed
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

    private async Task<Compressed?> CompressedAsync(string path, IFileInfo file)
    {
        // One compression per file version even when a burst asks for it at once: the Lazy is shared.
        var entry = _files.GetOrAdd(path, _ => new(() => CompressAsync(file)));
        var compressed = await entry.Value;
        if (compressed is null)
        {
            _files.TryRemove(KeyValuePair.Create(path, entry)); // not kept: the next request tries again
            return null;
        }
        if (compressed.LastModified == file.LastModified && compressed.Length == file.Length) return compressed;
        var fresh = new Lazy<Task<Compressed?>>(() => CompressAsync(file));
        return await _files.AddOrUpdate(path, fresh, (_, current) => current == entry ? fresh : current).Value;
    }

    private static async Task<Compressed?> CompressAsync(IFileInfo file)
    {
        if (!ContentTypes.TryGetContentType(file.Name, out var contentType)) return null;
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
        return new Compressed(contentType, file.LastModified, file.Length, hash, Smaller(Brotli(original), original), Smaller(Gzip(original), original));
    }

    private static byte[] Brotli(byte[] original)
    {
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(original.Length)];
        return BrotliEncoder.TryCompress(original, output, out var written, quality: 11, window: 22) ? output[..written] : original;
    }

    private static byte[] Gzip(byte[] original)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize)) gzip.Write(original);
        return output.ToArray();
    }

    /// <summary>A tiny file can grow when compressed: then it goes out as it is.</summary>
    private static byte[]? Smaller(byte[] compressed, byte[] original) => compressed.Length < original.Length ? compressed : null;

    private sealed record Compressed(string ContentType, DateTimeOffset LastModified, long Length, string Hash, byte[]? Brotli, byte[]? Gzip);
}
