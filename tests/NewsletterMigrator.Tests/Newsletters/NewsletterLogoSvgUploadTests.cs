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
/// Issue 21, point 1: an SVG logo uploaded in the settings (recognised by its content), stored cleaned, served as SVG
/// to pages under a strict policy of its own and as an 80-pixel PNG for mails.
/// </summary>
public sealed class NewsletterLogoSvgUploadTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();
    private Newsletter _newsletter = null!;
    private HttpClient _admin = null!;

    public async Task InitializeAsync()
    {
        _newsletter = await _app.NewsletterAsync();
        _admin = await _app.AdminAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_SVG_upload_is_stored_cleaned_and_the_page_says_what_was_removed_and_shows_both_forms()
    {
        // Named .png and sent as image/png: the content decides, not the name.
        var upload = TestSvgs.Illustrator.Replace("<title>", "<script>alert(1)</script><title>");
        var response = await UploadAsync(Encoding.UTF8.GetBytes(upload), "logo.png");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);

        var (newsletter, logo) = await StoredAsync();
        Assert.Equal("image/svg+xml", logo!.ContentType);
        Assert.True(newsletter.LogoSvg);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(logo.Content)), newsletter.LogoSha256);
        Assert.DoesNotContain("script", Encoding.UTF8.GetString(logo.Content));
        Assert.Equal((320, 80), (newsletter.LogoWidth, newsletter.LogoHeight));
        Assert.Equal((320, 80), (newsletter.LogoMailWidth, newsletter.LogoMailHeight));
        Assert.Equal((320, 80), NewsletterLogoPng.SizeOf(logo.MailPng!));

        var settings = WebUtility.HtmlDecode(await _admin.GetStringAsync(response.Headers.Location!));
        Assert.Contains("Das Logo ist gespeichert. Entfernt wurde, was nicht zum Zeichnen gehört: script", settings);
        Assert.Contains($"src=\"/n/eilmeldungen/logo/{newsletter.LogoSha256}.svg\" width=\"320\" height=\"80\"", settings);
        Assert.Contains("In Mails erscheint es als PNG mit 320 × 80 Pixeln:", settings);
        Assert.Contains($"src=\"/n/eilmeldungen/logo/{newsletter.LogoSha256}.png\"", settings);
        Assert.Contains("accept=\"image/png,.png,image/svg+xml,.svg\"", settings);
        Assert.Contains("PNG oder SVG, höchstens 24 KB", settings);

        var audit = await _app.WithDbAsync(db => db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).Select(a => a.Details).ToListAsync());
        Assert.Contains(audit, a => a.StartsWith("logo of newsletter eilmeldungen set (SVG ") && a.Contains("mail PNG 320x80") && a.Contains("removed elements: script"));
    }

    [Fact]
    public async Task The_SVG_is_served_with_a_strict_policy_of_its_own_and_an_immutable_cache_lifetime()
    {
        await UploadAsync(Encoding.UTF8.GetBytes(TestSvgs.Illustrator), "logo.svg");
        var (newsletter, logo) = await StoredAsync();
        var reader = _app.ReaderClient();

        var response = await reader.GetAsync($"/n/eilmeldungen/logo/{newsletter.LogoSha256}.svg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/svg+xml", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("default-src 'none'; style-src 'unsafe-inline'; sandbox", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("public, max-age=31536000, immutable", response.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal($"\"{newsletter.LogoSha256}\"", response.Headers.ETag!.Tag);
        Assert.Equal(logo!.Content, await response.Content.ReadAsByteArrayAsync());

        // The reader pages show the SVG with its size reserved (no layout shift).
        var header = Regex.Match(await reader.GetStringAsync("/n/eilmeldungen"), "<header class=\"brand-header\">(.*?)</header>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains($"<img src=\"/n/eilmeldungen/logo/{newsletter.LogoSha256}.svg\" width=\"320\" height=\"80\" alt=\"\" class=\"brand-logo\" />", header);

        // The PNG address of an SVG logo is its mail raster: another representation, another ETag.
        var png = await reader.GetAsync($"/n/eilmeldungen/logo/{newsletter.LogoSha256}.png");
        Assert.Equal(HttpStatusCode.OK, png.StatusCode);
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", png.Headers.CacheControl!.ToString());
        Assert.Equal($"\"{newsletter.LogoSha256}-png\"", png.Headers.ETag!.Tag);
        var bytes = await png.Content.ReadAsByteArrayAsync();
        Assert.Equal((320, 80), NewsletterLogoPng.SizeOf(bytes));
        Assert.NotNull(NewsletterLogoPng.Clean(bytes).Logo);
    }

    [Fact]
    public async Task Mails_get_the_PNG_address_and_size_for_an_SVG_logo_and_for_a_PNG_logo()
    {
        await UploadAsync(Encoding.UTF8.GetBytes(TestSvgs.Illustrator), "logo.svg");
        var (svgNewsletter, _) = await StoredAsync();
        Assert.Equal(new MailLogo($"/n/eilmeldungen/logo/{svgNewsletter.LogoSha256}.png", 320, 80), NewsletterLogos.MailLogoFor(svgNewsletter));
        Assert.Equal($"/n/eilmeldungen/logo/{svgNewsletter.LogoSha256}.svg", NewsletterLogos.UrlFor(svgNewsletter));

        // A PNG replaces it: pages and mails use the PNG itself; the old SVG address is gone.
        await UploadAsync(TestPngs.Logo(160, 40), "logo.png");
        var (pngNewsletter, stored) = await StoredAsync();
        Assert.False(pngNewsletter.LogoSvg);
        Assert.Null(stored!.MailPng);
        Assert.Equal(new MailLogo($"/n/eilmeldungen/logo/{pngNewsletter.LogoSha256}.png", 160, 40), NewsletterLogos.MailLogoFor(pngNewsletter));
        Assert.Equal(NewsletterLogos.MailLogoFor(pngNewsletter)?.Url, NewsletterLogos.UrlFor(pngNewsletter));
        var reader = _app.ReaderClient();
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/eilmeldungen/logo/{svgNewsletter.LogoSha256}.svg")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/eilmeldungen/logo/{pngNewsletter.LogoSha256}.svg")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/n/eilmeldungen/logo/{pngNewsletter.LogoSha256}.png")).StatusCode);
    }

    [Fact]
    public async Task A_refused_SVG_says_why_and_the_stored_logo_stays()
    {
        Assert.Equal(HttpStatusCode.Redirect, (await UploadAsync(TestPngs.Logo(), "logo.png")).StatusCode);
        var (before, _) = await StoredAsync();

        var doctype = "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"ha\">]><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><text>&a;</text></svg>";
        var page = await (await UploadAsync(Encoding.UTF8.GetBytes(doctype), "logo.svg")).Content.ReadAsStringAsync();
        Assert.Contains("Die SVG-Datei enthält eine DOCTYPE-Angabe.", LogoError(page));
        page = await (await UploadAsync(Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><script>alert(1)</script></svg>"), "logo.svg")).Content.ReadAsStringAsync();
        Assert.Contains("bleibt im SVG nichts zu zeichnen", LogoError(page));

        var (after, _) = await StoredAsync();
        Assert.Equal((before.LogoSha256, before.LogoSvg), (after.LogoSha256, after.LogoSvg));
    }

    private async Task<HttpResponseMessage> UploadAsync(byte[] file, string fileName)
    {
        var settings = await _admin.GetStringAsync($"/admin/newsletters/edit/{_newsletter.Id}");
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(Html.AntiforgeryToken(settings)), "__RequestVerificationToken");
        var content = new ByteArrayContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(content, "Logo", fileName);
        return await _admin.PostAsync($"/admin/newsletters/edit/{_newsletter.Id}?handler=Logo", form);
    }

    private async Task<(Newsletter Newsletter, NewsletterLogo? Logo)> StoredAsync() => await _app.WithDbAsync(async db =>
        (await db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == _newsletter.Id),
         await db.NewsletterLogos.AsNoTracking().SingleOrDefaultAsync(l => l.NewsletterId == _newsletter.Id)));

    private static string LogoError(string page) =>
        WebUtility.HtmlDecode(Regex.Match(page, "id=\"logo-error\"[^>]*>(.*?)</span>", RegexOptions.Singleline).Groups[1].Value);
}
