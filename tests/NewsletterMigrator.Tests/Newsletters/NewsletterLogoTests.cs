using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 17, point 5: a newsletter's optional logo, uploaded in its settings, checked by content, stripped of
/// metadata, served by us at an immutable address and shown at the top of every reader page.
/// </summary>
public sealed class NewsletterLogoTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _newsletter = await _app.NewsletterAsync();
        await _app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        _admin = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await _admin.SignInAsync("admin@example.test", "long enough password")).StatusCode);
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_uploaded_logo_is_stored_without_its_metadata_and_with_its_size(bool interlaced)
    {
        var upload = TestPngs.Logo(160, 40, interlaced: interlaced);
        Assert.Contains("Erika Mustermann", Encoding.Latin1.GetString(upload));

        var response = await UploadAsync(upload);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.EndsWith("#logo", response.Headers.Location!.OriginalString);

        var (newsletter, logo) = await StoredAsync();
        Assert.NotNull(logo);
        Assert.Equal((160, 40), (newsletter.LogoWidth, newsletter.LogoHeight));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(logo.Content)), newsletter.LogoSha256);
        Assert.Equal("image/png", logo.ContentType);
        // Only what a browser needs to draw it: the author text, the EXIF location and the time stamp are gone.
        Assert.Equal(["IHDR", "IDAT", "IEND"], TestPngs.ChunkTypes(logo.Content));
        var stored = Encoding.Latin1.GetString(logo.Content);
        Assert.DoesNotContain("Erika", stored);
        Assert.DoesNotContain("GPS", stored);
        // The cleaned file is itself a valid PNG by the same checks, and cleaning it again changes nothing.
        Assert.Equal(logo.Content, NewsletterLogoPng.Clean(logo.Content).Logo!.Content);

        var settings = await _admin.GetStringAsync($"/admin/newsletters/edit/{_newsletter.Id}");
        Assert.Contains($"src=\"/n/eilmeldungen/logo/{newsletter.LogoSha256}.png\"", settings);
        Assert.Contains("160 × 40 Pixel", WebUtility.HtmlDecode(settings));
    }

    [Fact]
    public async Task The_logo_is_served_with_its_type_an_immutable_cache_lifetime_and_an_ETag_and_a_wrong_address_is_404()
    {
        await UploadAsync(TestPngs.Logo());
        var (newsletter, logo) = await StoredAsync();
        var reader = _app.ReaderClient();
        var url = $"/n/eilmeldungen/logo/{newsletter.LogoSha256}.png";

        var response = await reader.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl!.ToString());
        Assert.Equal($"\"{newsletter.LogoSha256}\"", response.Headers.ETag!.Tag);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(logo!.Content, await response.Content.ReadAsByteArrayAsync());
        Assert.False(response.Headers.Contains("Set-Cookie"));

        // A browser that has it asks again only by its ETag and gets no body.
        var again = new HttpRequestMessage(HttpMethod.Get, url);
        again.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{newsletter.LogoSha256}\""));
        Assert.Equal(HttpStatusCode.NotModified, (await reader.SendAsync(again)).StatusCode);

        var otherHash = new string('0', 64);
        foreach (var wrong in new[] { $"/n/eilmeldungen/logo/{otherHash}.png", $"/n/andere/logo/{newsletter.LogoSha256}.png",
                     $"/n/eilmeldungen/logo/{newsletter.LogoSha256!.ToUpperInvariant()}.png", "/n/eilmeldungen/logo/x.png" })
            Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(wrong)).StatusCode);

        // Removed: no logo in the database, and its address is gone (the cache is cleared on this instance).
        var settings = await _admin.GetStringAsync($"/admin/newsletters/edit/{_newsletter.Id}");
        var remove = await _admin.PostFormAsync($"/admin/newsletters/edit/{_newsletter.Id}?handler=RemoveLogo", settings, []);
        Assert.Equal(HttpStatusCode.Redirect, remove.StatusCode);
        var (after, stored) = await StoredAsync();
        Assert.Null(stored);
        Assert.Null(after.LogoSha256);
        Assert.Equal((0, 0), (after.LogoWidth, after.LogoHeight));
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync(url)).StatusCode);
        Assert.DoesNotContain("brand-logo", await reader.GetStringAsync("/n/eilmeldungen"));
    }

    [Fact]
    public async Task The_reader_header_shows_the_logo_with_its_size_and_the_newsletters_name()
    {
        var reader = _app.ReaderClient();
        var without = Header(await reader.GetStringAsync("/n/eilmeldungen"));
        Assert.DoesNotContain("<img", without);
        Assert.Contains("<span class=\"brand-name\">Tagblatt Eilmeldungen</span>", without);

        await UploadAsync(TestPngs.Logo(160, 80));
        var (newsletter, _) = await StoredAsync();
        foreach (var path in new[] { "/n/eilmeldungen", "/n/eilmeldungen/impressum" })
        {
            var header = Header(await reader.GetStringAsync(path));
            Assert.Matches($"<img src=\"/n/eilmeldungen/logo/{newsletter.LogoSha256}.png\" width=\"160\" height=\"80\" alt=\"\" class=\"brand-logo\" />", header);
            Assert.Contains("<span class=\"brand-name\">Tagblatt Eilmeldungen</span>", header);
        }
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "neither a PNG nor an SVG", "gif", "Die Datei ist weder ein PNG- noch ein SVG-Bild." },
        { "truncated", "truncated", "Die PNG-Datei ist beschädigt oder unvollständig" },
        { "a wrong CRC", "crc", "Die PNG-Datei ist beschädigt oder unvollständig" },
        { "fewer rows than its header promises", "rows", "Die PNG-Datei ist beschädigt oder unvollständig" },
        { "more than 24 KB after cleaning", "large", "ein Logo darf höchstens 24 KB haben" },
        { "too many pixels for its few bytes", "pixels", "Das Bild hat 2000 × 2000 Pixel; erlaubt sind höchstens 1000 Pixel je Seite" },
        { "no file at all", "none", "Bitte wählen Sie eine PNG- oder SVG-Datei aus." },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_file_is_refused_with_a_message_and_the_stored_logo_stays(string what, string kind, string message)
    {
        Assert.Equal(HttpStatusCode.Redirect, (await UploadAsync(TestPngs.Logo())).StatusCode);
        var (before, logoBefore) = await StoredAsync();

        var good = TestPngs.Logo();
        var file = kind switch
        {
            "gif" => Encoding.ASCII.GetBytes("GIF89a\x01\0\x01\0\0\0\0;"),
            "truncated" => TestPngs.Truncated(good),
            "crc" => TestPngs.WithBadCrc(good),
            "rows" => TestPngs.WithMissingRows(),
            "large" => TestPngs.Logo(200, 60, metadata: false, noise: true),
            "pixels" => TestPngs.Huge(2000, 2000),
            _ => [],
        };
        if (kind == "large") Assert.True(file.Length > 24 * 1024, $"{what}: the test file has only {file.Length} bytes");
        if (kind == "pixels") Assert.True(file.Length < 24 * 1024, $"{what}: the test file has {file.Length} bytes");

        var response = await UploadAsync(file, kind == "none" ? "" : "logo.png");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains(message, LogoError(page));
        // The page shows the stored settings unchanged, not the empty settings form the upload did not post.
        Assert.Equal("Tagblatt Eilmeldungen", Html.InputValue(page, "Input.Name"));
        Assert.DoesNotContain("field-validation-error\" data-valmsg-for=\"Input.Name", page);

        var (after, logoAfter) = await StoredAsync();
        Assert.Equal((before.LogoSha256, before.LogoWidth, before.LogoHeight), (after.LogoSha256, after.LogoWidth, after.LogoHeight));
        Assert.Equal(logoBefore!.Content, logoAfter!.Content);
    }

    [Fact]
    public async Task A_refusal_is_explained_in_English_to_an_English_speaking_editor()
    {
        _admin.DefaultRequestHeaders.AcceptLanguage.ParseAdd("en");
        var page = await (await UploadAsync(TestPngs.Huge(1200, 300))).Content.ReadAsStringAsync();
        Assert.Contains("The image has 1200 × 300 pixels; at most 1000 pixels per side", LogoError(page));
        page = await (await UploadAsync(Encoding.ASCII.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), "logo.svg")).Content.ReadAsStringAsync();
        Assert.Contains("The SVG file gives no size: it needs a viewBox", LogoError(page));
        Assert.Null((await StoredAsync()).Logo);
    }

    private async Task<HttpResponseMessage> UploadAsync(byte[] file, string fileName = "logo.png")
    {
        var settings = await _admin.GetStringAsync($"/admin/newsletters/edit/{_newsletter.Id}");
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(Html.AntiforgeryToken(settings)), "__RequestVerificationToken");
        if (fileName.Length > 0) // no file chosen: the browser sends no file
        {
            var content = new ByteArrayContent(file);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(content, "Logo", fileName);
        }
        return await _admin.PostAsync($"/admin/newsletters/edit/{_newsletter.Id}?handler=Logo", form);
    }

    private async Task<(Newsletter Newsletter, NewsletterLogo? Logo)> StoredAsync() => await _app.WithDbAsync(async db =>
        (await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == _newsletter.Id),
         await db.NewsletterLogos.AsNoTracking().SingleOrDefaultAsync(l => l.NewsletterId == _newsletter.Id)));

    private static string LogoError(string page) =>
        WebUtility.HtmlDecode(Regex.Match(page, "id=\"logo-error\"[^>]*>(.*?)</span>", RegexOptions.Singleline).Groups[1].Value);

    private static string Header(string html) => Regex.Match(html, "<header class=\"brand-header\">(.*?)</header>", RegexOptions.Singleline).Groups[1].Value;
}
