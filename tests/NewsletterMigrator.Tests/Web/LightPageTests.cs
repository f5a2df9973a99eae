using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using NewsletterMigrator.Testing;
using Xunit.Abstractions;

namespace NewsletterMigrator.Tests.Web;

/// <summary>
/// Issue 17, point 1: a reader on a phone taps the link in WhatsApp, often on a mobile network. The first visit of the
/// consent page (the page and everything it loads) transfers at most 50 KB, and a repeat visit only the page. Measured on
/// the real Kestrel server with the bytes as they travel (compressed), not as the client would decode them.
/// </summary>
public sealed partial class LightPageTests(ITestOutputHelper output)
{
    private const int Budget = 50 * 1024;

    [Fact]
    public async Task A_first_visit_of_the_consent_page_transfers_at_most_50_KB_and_a_repeat_visit_only_the_page()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.NewsletterAsync();
        using var browser = Browser(app, "br, gzip");

        var page = await FetchAsync(browser, "/n/eilmeldungen");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal("br", page.Encoding);
        // The page carries an antiforgery token: no cache may keep it (ASP.NET's antiforgery says so; nothing here undoes it).
        Assert.Contains("no-store", page.CacheControl);
        var transferred = new List<(string Url, Fetched Answer)> { ("/n/eilmeldungen", page) };

        // Everything the page makes the browser load, and what that loads in turn (a stylesheet's fonts and images).
        var pending = new Queue<string>(Subresources(page.Text, isCss: false));
        Assert.NotEmpty(pending);
        var seen = new HashSet<string>();
        while (pending.TryDequeue(out var url))
        {
            if (!seen.Add(url)) continue;
            Assert.True(url.StartsWith('/') && !url.StartsWith("//"), $"The consent page loads {url} from another host.");
            var answer = await FetchAsync(browser, url);
            Assert.True(answer.Status == HttpStatusCode.OK, $"{url} answered {answer.Status}");
            // Fingerprinted and cached for a year: a repeat visit asks for none of them.
            Assert.Contains("?v=", url);
            Assert.Equal("public, max-age=31536000, immutable", answer.CacheControl);
            if (answer.ContentType == "text/css")
            {
                Assert.Equal("br", answer.Encoding);
                foreach (var inner in Subresources(answer.Text, isCss: true)) pending.Enqueue(inner);
            }
            transferred.Add((url, answer));
        }

        var total = transferred.Sum(t => t.Answer.Bytes.Length);
        var report = string.Join("\n", transferred.Select(t =>
            $"{t.Url}: {t.Answer.Bytes.Length} bytes {t.Answer.Encoding ?? "identity"} ({t.Answer.Text.Length} characters decoded)"));
        output.WriteLine(report + $"\ntotal transferred: {total} bytes");
        Assert.True(total <= Budget, $"A first visit transfers {total} bytes, more than {Budget}:\n{report}");
    }

    [Fact]
    public async Task Static_files_go_out_compressed_as_the_browser_accepts_revalidated_when_not_fingerprinted_and_immutable_only_for_their_current_hash()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        var onDisk = await File.ReadAllBytesAsync(Path.Combine(AppFactory.RepositoryRoot(), "wwwroot", "css", "reader.css"));
        await app.NewsletterAsync();
        var fingerprinted = StylesheetLink().Match((await FetchAsync(Browser(app, ""), "/n/eilmeldungen")).Text).Groups[1].Value;

        foreach (var (accepts, encoding) in new[] { ("br, gzip", "br"), ("gzip", "gzip"), ("gzip;q=1, br;q=0", "gzip"), ("", null) })
        {
            using var browser = Browser(app, accepts);
            var answer = await FetchAsync(browser, "/css/reader.css");
            Assert.Equal(encoding, answer.Encoding);
            Assert.Equal(onDisk, answer.Decoded);
            Assert.Equal("text/css", answer.ContentType);
            Assert.Equal("Accept-Encoding", answer.Vary);
            // Without the fingerprint the browser asks again each time; with the ETag the answer is a bodiless 304.
            Assert.Equal("no-cache", answer.CacheControl);
            Assert.NotNull(answer.ETag);
            using var again = new HttpRequestMessage(HttpMethod.Get, "/css/reader.css");
            again.Headers.TryAddWithoutValidation("If-None-Match", answer.ETag);
            using var revalidated = await browser.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
            Assert.Empty(await revalidated.Content.ReadAsByteArrayAsync());

            Assert.Equal("public, max-age=31536000, immutable", (await FetchAsync(browser, fingerprinted)).CacheControl);
            // A fingerprint of another version (an old page during a deploy) must not pin today's file for a year.
            Assert.Equal("no-cache", (await FetchAsync(browser, "/css/reader.css?v=an-old-version")).CacheControl);
        }

        // Each encoding has its own ETag: a cache never answers a gzip client's revalidation with a Brotli body.
        var tags = new List<string?>();
        foreach (var accepts in new[] { "br", "gzip", "" }) tags.Add((await FetchAsync(Browser(app, accepts), "/css/reader.css")).ETag);
        Assert.Equal(3, tags.Distinct().Count());
    }

    [Fact]
    public async Task A_changed_static_file_is_compressed_again_and_a_tiny_one_goes_out_as_it_is()
    {
        var webRoot = Directory.CreateTempSubdirectory("nm-webroot-").FullName;
        try
        {
            var file = Path.Combine(webRoot, "styles.css");
            var first = string.Concat(Enumerable.Repeat(".first { color: #123456; }\n", 100));
            await File.WriteAllTextAsync(file, first);
            await File.WriteAllTextAsync(Path.Combine(webRoot, "tiny.css"), "a{}");
            await using var app = new AppFactory(kestrel: true, settings: new() { ["webroot"] = webRoot });
            app.StartServer();
            using var browser = Browser(app, "br, gzip");

            var before = await FetchAsync(browser, "/styles.css");
            Assert.Equal("br", before.Encoding);
            Assert.Equal(first, before.Text);

            // A deploy replaces the file: the next answer is the new content, under a new ETag.
            var second = string.Concat(Enumerable.Repeat(".second { color: #654321; }\n", 100));
            await File.WriteAllTextAsync(file, second);
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));
            var after = await FetchAsync(browser, "/styles.css");
            Assert.Equal(second, after.Text);
            Assert.NotEqual(before.ETag, after.ETag);

            // Three bytes would grow compressed.
            var tiny = await FetchAsync(browser, "/tiny.css");
            Assert.Null(tiny.Encoding);
            Assert.Equal("a{}", tiny.Text);
        }
        finally
        {
            Directory.Delete(webRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Many_urls_of_one_static_file_compress_it_once_and_keep_one_entry_in_memory()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        using var browser = Browser(app, "br, gzip");
        var first = await FetchAsync(browser, "/lib/bootstrap/dist/css/bootstrap.min.css.map");
        Assert.Equal("br", first.Encoding);
        var store = app.Service<CompressedStaticFileStore>();
        var (entries, compressions) = (store.Files.Count, store.Compressions);

        // /lib//bootstrap/… names the same file on disk: before, each such URL cost an entry and a compression of 0.6 MB.
        for (var slashes = 2; slashes < 30; slashes++)
        {
            var variant = await FetchAsync(browser, "/lib" + new string('/', slashes) + "bootstrap/dist/css/bootstrap.min.css.map");
            Assert.Null(variant.Encoding); // not an address the app links to: served as it is, if at all
        }
        Assert.Equal(entries, store.Files.Count);
        Assert.Equal(compressions, store.Compressions);
        Assert.Equal("br", (await FetchAsync(browser, "/lib/bootstrap/dist/css/bootstrap.min.css.map")).Encoding);
        Assert.Equal(compressions, store.Compressions);
    }

    [Fact]
    public async Task Pages_are_compressed_and_their_antiforgery_token_differs_in_every_answer()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        await app.NewsletterAsync();
        using var browser = Browser(app, "gzip");

        var first = await FetchAsync(browser, "/n/eilmeldungen");
        var second = await FetchAsync(browser, "/n/eilmeldungen");
        Assert.Equal("gzip", first.Encoding);
        Assert.Equal("Accept-Encoding", first.Vary);
        // gzip at its fastest level: about 51 % of the page's 8.4 KB (PageCompression.cs).
        Assert.True(first.Bytes.Length < first.Decoded.Length * 0.6, $"{first.Bytes.Length} bytes for {first.Decoded.Length}");
        // Why compressing pages over HTTPS is safe from BREACH (PageCompression.cs): the one secret on a reader page is
        // masked anew in every answer, even to the same browser with the same cookie.
        Assert.NotEqual(Html.AntiforgeryToken(first.Text), Html.AntiforgeryToken(second.Text));

        // The error page, re-executed after a 404, is compressed as well.
        var missing = await FetchAsync(browser, "/no-such-page");
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal("gzip", missing.Encoding);
    }

    private static HttpClient Browser(AppFactory app, string acceptEncoding)
    {
        // No automatic decompression: the test counts the bytes that travel.
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None, CookieContainer = new CookieContainer() })
            { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
        if (acceptEncoding.Length > 0) client.DefaultRequestHeaders.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        return client;
    }

    private static async Task<Fetched> FetchAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var encoding = response.Content.Headers.ContentEncoding.SingleOrDefault();
        var decoded = encoding switch
        {
            "br" => Decompress(new BrotliStream(new MemoryStream(bytes), CompressionMode.Decompress)),
            "gzip" => Decompress(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)),
            null => bytes,
            _ => throw new InvalidOperationException($"Unexpected Content-Encoding {encoding}"),
        };
        return new Fetched(response.StatusCode, bytes, decoded, encoding, response.Content.Headers.ContentType?.MediaType,
            response.Headers.CacheControl?.ToString(), string.Join(", ", response.Headers.Vary), response.Headers.ETag?.ToString());
    }

    private static byte[] Decompress(Stream compressed)
    {
        using var output = new MemoryStream();
        using (compressed) compressed.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>What a browser fetches for a page or a stylesheet: links (stylesheets, icons, preloads), scripts, images, url()s.</summary>
    private static IEnumerable<string> Subresources(string text, bool isCss) =>
        (isCss ? CssUrl().Matches(text) : HtmlSubresource().Matches(text))
            .Select(m => WebUtility.HtmlDecode(m.Groups["url"].Value.Trim('\'', '"', ' ')))
            .Where(url => !url.StartsWith("data:", StringComparison.Ordinal) && url.Length > 0);

    private sealed record Fetched(HttpStatusCode Status, byte[] Bytes, byte[] Decoded, string? Encoding, string? ContentType,
        string? CacheControl, string Vary, string? ETag)
    {
        public string Text => System.Text.Encoding.UTF8.GetString(Decoded);
    }

    [GeneratedRegex("""<(?:link|script|img|source|iframe|video|audio|embed)\b[^>]*?\s(?:href|src)="(?<url>[^"]+)"|\ssrcset="(?<url>[^"\s,]+)""")]
    private static partial Regex HtmlSubresource();

    [GeneratedRegex("""url\((?<url>[^)]*)\)|@import\s+["'](?<url>[^"']+)["']""")]
    private static partial Regex CssUrl();

    [GeneratedRegex("""<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"[^>]*>""")]
    private static partial Regex StylesheetLink();
}
