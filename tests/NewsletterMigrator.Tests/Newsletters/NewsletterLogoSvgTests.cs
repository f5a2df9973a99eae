using System.Text;
using NewsletterMigrator.Newsletters;
using SkiaSharp;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 21, point 1: an SVG logo is cleaned by an allowlist (or refused), so nothing in it can run, load or reach
/// anything outside the file, while a normal logo as drawing programs export it keeps its drawing.
/// </summary>
public sealed class NewsletterLogoSvgTests
{
    private const string Open = "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" viewBox=\"0 0 200 50\">";
    private const string Drawing = "<rect id=\"bar\" x=\"0\" y=\"0\" width=\"200\" height=\"50\" fill=\"#b00020\"/>";

    public static TheoryData<string, string, string[]> Hostile() => new()
    {
        { "a script element", "<script>alert('x')</script><script xlink:href=\"https://evil.example/a.js\"/>", ["script", "alert", "evil"] },
        { "event handlers", "<g onload=\"alert(1)\" onclick=\"alert(2)\"><circle cx=\"5\" cy=\"5\" r=\"4\" onmouseover=\"alert(3)\" onfocus=\"history.back\"/></g>", ["onload", "onclick", "onmouseover", "onfocus", "alert", "history"] },
        { "a foreignObject with HTML", "<foreignObject width=\"10\" height=\"10\"><body xmlns=\"http://www.w3.org/1999/xhtml\"><iframe src=\"https://evil.example/\"/></body></foreignObject>", ["foreignObject", "iframe", "evil"] },
        { "use of another file (href)", "<use href=\"https://evil.example/sprite.svg#logo\"/>", ["evil", "sprite"] },
        { "use of another file (xlink:href)", "<use xlink:href=\"//evil.example/sprite.svg#logo\"/>", ["evil", "sprite"] },
        { "an image from the web", "<image href=\"http://evil.example/track.png\" width=\"10\" height=\"10\"/><image xlink:href=\"data:image/png;base64,AAAA\"/>", ["image", "evil", "data:"] },
        { "a javascript: href", "<linearGradient id=\"g\" xlink:href=\"javascript:alert(1)\"/><use href=\"javascript:alert(1)\"/><a href=\"javascript:alert(1)\"><rect width=\"1\" height=\"1\"/></a>", ["javascript", "alert", "<a"] },
        { "url(http) in a style attribute", "<rect width=\"5\" height=\"5\" style=\"fill:url(http://evil.example/p.svg#g);stroke:#123456\"/>", ["evil"] },
        { "url(http) in a presentation attribute", "<rect width=\"5\" height=\"5\" fill=\"url('https://evil.example/p.svg#g')\" mask=\"url(http://evil.example/m)\"/>", ["evil"] },
        { "url(http) in a style sheet", "<style>.a{fill:url(https://evil.example/p.svg#g)} .b{fill:#c00;cursor:url(https://evil.example/c.cur)}</style>", ["evil", "cursor"] },
        { "@import in a style sheet", "<style>@import url(https://evil.example/a.css);@import 'https://evil.example/b.css';.b{fill:#c00}</style>", ["import", "evil"] },
        { "@font-face and CSS escapes", "<style>@font-face{font-family:x;src:url(https://evil.example/f.woff)}</style><style>.a{fill:u\\72l(https://evil.example/x)}</style>", ["font-face", "evil", "\\72"] },
        { "expression() and javascript: in CSS", "<rect width=\"5\" height=\"5\" style=\"fill:expression(alert(1));stroke:javascript:alert(1)\"/>", ["expression", "javascript", "alert"] },
        { "animation that sets a link or a fill", "<set attributeName=\"fill\" to=\"url(https://evil.example/#g)\"/><animate attributeName=\"href\" values=\"javascript:alert(1)\"/>", ["set", "animate", "evil", "javascript"] },
        { "editor data and metadata", "<metadata><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">Erika Mustermann</rdf:RDF></metadata><sodipodi:namedview xmlns:sodipodi=\"http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd\"/><g xmlns:inkscape=\"http://www.inkscape.org/namespaces/inkscape\" inkscape:label=\"Ebene 1\"/>", ["metadata", "Erika", "sodipodi", "inkscape", "Ebene"] },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_part_is_removed_and_the_drawing_stays(string what, string hostile, string[] gone)
    {
        var (logo, refusal, _) = NewsletterLogoSvg.Clean(Svg(Drawing + hostile));

        Assert.True(logo is not null, $"{what}: refused ({refusal})");
        var stored = Encoding.UTF8.GetString(logo.Content);
        foreach (var word in gone) Assert.DoesNotContain(word, stored, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<rect id=\"bar\" x=\"0\" y=\"0\" width=\"200\" height=\"50\" fill=\"#b00020\" />", stored);
        Assert.True(logo.RemovedElements.Count + logo.RemovedAttributes > 0, what);
        // What we stored is what we wrote: cleaning it again changes nothing.
        Assert.Equal(logo.Content, NewsletterLogoSvg.Clean(logo.Content).Logo!.Content);
    }

    [Fact]
    public void Safe_styles_and_local_references_stay_when_their_unsafe_neighbours_go()
    {
        var (logo, _, _) = NewsletterLogoSvg.Clean(Svg(
            "<style>.b{fill:#c00} .a{fill:url(https://evil.example/p.svg#g)}</style>" + Drawing +
            "<rect class=\"b\" width=\"5\" height=\"5\" style=\"fill:url(http://evil.example/#g);stroke:#123456\" clip-path=\"url( '#bar' )\"/>"));
        var stored = Encoding.UTF8.GetString(logo!.Content);
        Assert.Contains("<style>.b{fill:#c00;}</style>", stored);
        Assert.Contains("style=\"stroke:#123456;\"", stored);
        Assert.Contains("clip-path=\"url(#bar)\"", stored);
    }

    public static TheoryData<string, string, LogoSvgRefusal> Refused() => new()
    {
        { "a DOCTYPE with an entity bomb (billion laughs)", BillionLaughs, LogoSvgRefusal.Doctype },
        { "a DOCTYPE with an external entity", "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" + Open + "<text>&x;</text>" + Drawing + "</svg>", LogoSvgRefusal.Doctype },
        { "broken XML", Open + "<rect width=\"1\" height=\"1\"></svg>", LogoSvgRefusal.Broken },
        { "a truncated file", Open + Drawing + "<path d=\"M0 0L10", LogoSvgRefusal.Broken },
        { "XML that is not an SVG", "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>", LogoSvgRefusal.NotSvg },
        { "no viewBox and a size in percent", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" height=\"100%\">" + Drawing + "</svg>", LogoSvgRefusal.NoSize },
        { "nothing drawable left", Open + "<script>alert(1)</script><image href=\"logo.png\" width=\"200\" height=\"50\"/><defs><rect id=\"x\" width=\"1\" height=\"1\"/></defs></svg>", LogoSvgRefusal.NothingDrawable },
        { "a use bomb (ten uses of ten uses of …)", UseBomb, LogoSvgRefusal.TooComplex },
        // Every rule with url(#…) is matched against every element: 1,000 rules over 3,000 elements is refused before that work.
        { "a style sheet of many rules with url() over many elements", Open + "<defs><linearGradient id=\"g\"/></defs><style>"
            + string.Concat(Enumerable.Range(0, 1000).Select(i => $".c{i}{{fill:url(#g)}}")) + "</style>"
            + string.Concat(Enumerable.Range(0, 3000).Select(_ => "<path d=\"M0 0L1 1\"/>")) + "</svg>", LogoSvgRefusal.TooComplex },
        { "a clip path clipped by itself", Open + "<clipPath id=\"c\"><rect width=\"5\" height=\"5\" clip-path=\"url(#c)\"/></clipPath>" + Drawing.Replace("/>", " clip-path=\"url(#c)\"/>") + "</svg>", LogoSvgRefusal.CircularReference },
        { "a use of its own group", Open + "<g id=\"loop\">" + Drawing + "<use href=\"#loop\"/></g></svg>", LogoSvgRefusal.CircularReference },
        { "more than 24 KB after cleaning", Open + string.Concat(Enumerable.Range(0, 600).Select(i => $"<path d=\"M{i} 0L{i} 50L{i + 1} 25Z\" fill=\"#{i:x6}\"/>")) + "</svg>", LogoSvgRefusal.TooLarge },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_file_that_cannot_be_made_safe_or_small_is_refused(string what, string svg, LogoSvgRefusal expected)
    {
        var (logo, refusal, _) = NewsletterLogoSvg.Clean(Encoding.UTF8.GetBytes(svg));
        Assert.True(logo is null, what);
        Assert.Equal(expected, refusal);
    }

    [Fact]
    public void A_DOCTYPE_the_byte_scan_cannot_see_is_refused_by_the_XML_reader_itself()
    {
        // UTF-16: the "<!DOCTYPE" bytes are not there for the quick scan; the reader's DtdProcessing.Prohibit refuses it.
        var utf16 = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(BillionLaughs.Replace("<?xml version=\"1.0\"?>", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"))).ToArray();
        Assert.Equal(-1, utf16.AsSpan().IndexOf("<!DOCTYPE"u8));
        Assert.Equal(LogoSvgRefusal.Doctype, NewsletterLogoSvg.Clean(utf16).Refusal);
    }

    [Fact]
    public void A_file_over_the_upload_limit_is_refused_unread()
    {
        var huge = Svg(Drawing + "<desc>" + new string('x', NewsletterLogoSvg.MaxUploadBytes) + "</desc>");
        var (logo, refusal, kilobytes) = NewsletterLogoSvg.Clean(huge);
        Assert.Null(logo);
        Assert.Equal(LogoSvgRefusal.TooLarge, refusal);
        Assert.Equal(huge.Length / 1024, kilobytes);
    }

    [Fact]
    public void An_Illustrator_logo_with_style_classes_gradients_and_text_keeps_its_drawing()
    {
        var original = Encoding.UTF8.GetBytes(TestSvgs.Illustrator);
        var (logo, refusal, _) = NewsletterLogoSvg.Clean(original);
        Assert.True(logo is not null, refusal.ToString());
        var stored = Encoding.UTF8.GetString(logo.Content);

        // Illustrator's classes, gradient and text are there; its layer names and generator comment are not.
        Assert.Contains(".cls-1{fill:url(#Verlauf);}", stored);
        Assert.Contains("font-family:Arial-BoldMT, Arial;", stored);
        Assert.Contains("<linearGradient id=\"Verlauf\" x1=\"0\" y1=\"25\" x2=\"60\" y2=\"25\" gradientUnits=\"userSpaceOnUse\">", stored);
        Assert.Contains("<tspan x=\"0\" y=\"0\">Tagblatt</tspan></text>", stored);
        Assert.DoesNotContain("data-name", stored);
        Assert.DoesNotContain("Generator", stored);
        Assert.Equal((240, 60), (logo.Width, logo.Height));
        Assert.Equal((320, 80), logo.PixelSize);

        // Drawn by the same renderer, the cleaned file and the original give the same pixels.
        var cleaned = NewsletterLogoRaster.Render(logo).Png;
        var unchanged = NewsletterLogoRaster.Render(logo with { Content = original }).Png;
        Assert.NotNull(cleaned);
        Assert.Equal(unchanged!.Content, cleaned.Content);
    }

    [Fact]
    public void The_mail_raster_is_a_clean_PNG_80_pixels_high_with_the_drawing_and_its_text()
    {
        var logo = NewsletterLogoSvg.Clean(Encoding.UTF8.GetBytes(TestSvgs.Illustrator)).Logo!;
        var (png, problem) = NewsletterLogoRaster.Render(logo);
        Assert.Null(problem);
        Assert.Equal((320, 80), (png!.Width, png.Height));
        Assert.Equal((320, 80), NewsletterLogoPng.SizeOf(png.Content));
        Assert.Equal(png.Content, NewsletterLogoPng.Clean(png.Content).Logo!.Content); // passes the upload checks unchanged
        Assert.True(png.Content.Length <= NewsletterLogoPng.MaxStoredBytes);

        using var bitmap = SKBitmap.Decode(png.Content);
        // The gradient square on the left: red at its left edge, blue at its right.
        Assert.True(bitmap.GetPixel(4, 40).Red > 150 && bitmap.GetPixel(4, 40).Blue < 100, bitmap.GetPixel(4, 40).ToString());
        Assert.True(bitmap.GetPixel(76, 40).Blue > 120 && bitmap.GetPixel(76, 40).Red < 80, bitmap.GetPixel(76, 40).ToString());
        // The word "Tagblatt" right of it is drawn (a font was found): dark pixels in its band, transparent below.
        var dark = 0;
        for (var x = 100; x < 316; x++)
            for (var y = 20; y < 70; y++)
                if (bitmap.GetPixel(x, y) is { Alpha: > 200, Red: < 80 }) dark++;
        Assert.True(dark > 500, $"{dark} dark pixels where the text should be");
        Assert.Equal(0, bitmap.GetPixel(200, 79).Alpha);
    }

    [Fact]
    public void A_very_wide_logo_is_drawn_at_most_1000_pixels_wide_and_lower()
    {
        var logo = NewsletterLogoSvg.Clean(Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 2000 100\"><rect width=\"2000\" height=\"100\"/></svg>")).Logo!;
        Assert.Equal((1000, 50), logo.PixelSize);
        Assert.Equal((1000, 50), NewsletterLogoPng.SizeOf(NewsletterLogoRaster.Render(logo).Png!.Content));
    }

    private static byte[] Svg(string inner) => Encoding.UTF8.GetBytes(Open + inner + "</svg>");

    private const string BillionLaughs =
        "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY a \"ha\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">" +
        "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">]>" +
        Open + "<text y=\"20\">&f;</text>" + Drawing + "</svg>";

    // Five levels of ten uses each: 100,000 rectangles drawn from a file of one kilobyte.
    private static string UseBomb =>
        Open + "<defs><rect id=\"l0\" width=\"1\" height=\"1\"/>" +
        string.Concat(Enumerable.Range(1, 5).Select(level => $"<g id=\"l{level}\">" + string.Concat(Enumerable.Repeat($"<use href=\"#l{level - 1}\"/>", 10)) + "</g>")) +
        "</defs><use href=\"#l5\"/></svg>";
}

/// <summary>SVG files as drawing programs write them, for the logo tests.</summary>
public static class TestSvgs
{
    /// <summary>
    /// An Illustrator 2024 "Export As SVG" with style classes: a gradient square and the word "Tagblatt" in Arial Bold,
    /// with the generator comment, layer names (data-name) and a title, as it exports them.
    /// </summary>
    public const string Illustrator = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- Generator: Adobe Illustrator 28.0.0, SVG Export Plug-In . SVG Version: 1.2.0 Build 136)  -->
        <svg id="Ebene_1" data-name="Ebene 1" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="240" height="60" viewBox="0 0 240 60">
          <defs>
            <style>
              .cls-1 {
                fill: url(#Verlauf);
              }

              .cls-2 {
                fill: #1d1d1b;
                font-family: Arial-BoldMT, Arial;
                font-size: 40px;
                font-weight: 700;
              }
            </style>
            <linearGradient id="Verlauf" data-name="Verlauf" x1="0" y1="25" x2="60" y2="25" gradientUnits="userSpaceOnUse">
              <stop offset="0" stop-color="#e30613"/>
              <stop offset="1" stop-color="#1d3a8f"/>
            </linearGradient>
          </defs>
          <title>Tagblatt Logo</title>
          <rect class="cls-1" x="0" y="0" width="60" height="60" rx="8" ry="8"/>
          <text class="cls-2" transform="translate(72 45)"><tspan x="0" y="0">Tagblatt</tspan></text>
        </svg>
        """;
}
