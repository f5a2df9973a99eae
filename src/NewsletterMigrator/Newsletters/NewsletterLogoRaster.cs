using SkiaSharp;
using Svg.Skia;
using Svg.Skia.TypefaceProviders;

namespace NewsletterMigrator.Newsletters;

/// <summary>Why an SVG logo has no PNG for mails (it is stored all the same; mails then show the newsletter's name).</summary>
public enum LogoRasterProblem
{
    /// <summary>Skia's native library does not load on this machine.</summary>
    NoRenderer,
    /// <summary>The logo has text and the machine has no font to draw it with.</summary>
    NoFonts,
    /// <summary>The renderer failed on this file.</summary>
    Failed,
    /// <summary>The PNG came out larger than a logo may be (a photo-like gradient at 1000 pixels wide).</summary>
    TooLarge,
}

/// <summary>
/// Draws a cleaned SVG logo as a PNG for mail: Gmail, Outlook and most web mailers show no SVG. 80 pixels high (2x
/// of the 40 shown), the width from the aspect ratio (<see cref="NewsletterLogoSvg.PixelSize"/>), then through
/// <see cref="NewsletterLogoPng.Clean"/> like an upload, so the raster obeys the same limits. Svg.Skia reads only the
/// file we wrote (nothing outside it is referenced any more); its JavaScript support stays off.
/// </summary>
public static class NewsletterLogoRaster
{
    public static (CleanLogo? Png, LogoRasterProblem? Problem) Render(CleanSvgLogo svg)
    {
        var (width, height) = svg.PixelSize;
        try
        {
            if (svg.HasText && !LogoFonts.Instance.Any) return (null, LogoRasterProblem.NoFonts);
            using var document = new SKSvg();
            document.Settings.EnableJavaScript = false;
            document.Settings.EnableExternalJavaScript = false;
            document.Settings.TypefaceProviders = [LogoFonts.Instance];
            using var input = new MemoryStream(svg.Content, writable: false);
            var picture = document.Load(input);
            if (picture is null || picture.CullRect.Width <= 0 || picture.CullRect.Height <= 0) return (null, LogoRasterProblem.Failed);
            var frame = picture.CullRect;
            using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.Transparent);
                canvas.Scale(width / frame.Width, height / frame.Height);
                canvas.Translate(-frame.Left, -frame.Top);
                canvas.DrawPicture(picture);
            }
            using var pixels = bitmap.PeekPixels();
            // All filters and zlib level 9: about a tenth smaller than Skia's default (measured: a 1000x80 gradient bar
            // 3,825 -> 3,482 bytes), and a logo is drawn once per upload.
            using var png = pixels.Encode(new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 9));
            if (png is null) return (null, LogoRasterProblem.Failed);
            var (logo, refusal, _, _) = NewsletterLogoPng.Clean(png.AsSpan());
            return logo is not null ? (logo, null) : (null, refusal == LogoRefusal.TooLarge ? LogoRasterProblem.TooLarge : LogoRasterProblem.Failed);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            return (null, LogoRasterProblem.NoRenderer);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or NullReferenceException or IndexOutOfRangeException or NotSupportedException)
        {
            // A third-party renderer's failure on one file: the SVG itself passed our checks and stays usable on pages.
            return (null, LogoRasterProblem.Failed);
        }
    }
}

/// <summary>
/// The fonts a logo's text is drawn with in the mail raster. The NoDependencies build of Skia has no fontconfig and
/// finds no font by itself, so the font files in the usual folders are loaded once. Asked for a family that is not
/// there, it answers with the metric-compatible one (Arial and Helvetica: Liberation Sans, Times: Liberation Serif,
/// Courier: Liberation Mono) or a sans-serif: browsers do the same on a reader's page, since a logo's own font file
/// is not part of an SVG we keep (@font-face goes). Designers convert text to paths for an exact look; the admin
/// page says so.
/// </summary>
internal sealed class LogoFonts : ITypefaceProvider
{
    public static readonly LogoFonts Instance = new(["/usr/share/fonts", "/usr/local/share/fonts"]);

    private static readonly Dictionary<string, string[]> Substitutes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sans-serif"] = ["Liberation Sans", "DejaVu Sans", "Arial", "Helvetica"],
        ["arial"] = ["Liberation Sans", "DejaVu Sans"],
        ["helvetica"] = ["Liberation Sans", "DejaVu Sans"],
        ["helvetica neue"] = ["Liberation Sans", "DejaVu Sans"],
        ["serif"] = ["Liberation Serif", "DejaVu Serif", "Times New Roman"],
        ["times"] = ["Liberation Serif", "DejaVu Serif"],
        ["times new roman"] = ["Liberation Serif", "DejaVu Serif"],
        ["georgia"] = ["Liberation Serif", "DejaVu Serif"],
        ["monospace"] = ["Liberation Mono", "DejaVu Sans Mono", "Courier New"],
        ["courier"] = ["Liberation Mono", "DejaVu Sans Mono"],
        ["courier new"] = ["Liberation Mono", "DejaVu Sans Mono"],
    };

    private readonly Lazy<IReadOnlyList<SKTypeface>> _faces;

    internal LogoFonts(IReadOnlyList<string> folders) =>
        _faces = new Lazy<IReadOnlyList<SKTypeface>>(() => Load(folders), LazyThreadSafetyMode.ExecutionAndPublication);

    public bool Any => _faces.Value.Count > 0;

    public SKTypeface FromFamilyName(string fontFamily, SKFontStyleWeight fontWeight, SKFontStyleWidth fontWidth, SKFontStyleSlant fontStyle)
    {
        var wanted = fontFamily.Split(',').Select(f => f.Trim().Trim('\'', '"').Trim()).Where(f => f.Length > 0).ToList();
        var names = wanted.Concat(wanted.SelectMany(f => Substitutes.GetValueOrDefault(f) ?? [])).Concat(Substitutes["sans-serif"]);
        foreach (var name in names)
        {
            var family = _faces.Value.Where(t => string.Equals(t.FamilyName, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (family.Count > 0) return Closest(family, fontWeight, fontWidth, fontStyle);
        }
        return _faces.Value.Count > 0 ? Closest(_faces.Value, fontWeight, fontWidth, fontStyle) : SKTypeface.Default;
    }

    private static SKTypeface Closest(IEnumerable<SKTypeface> faces, SKFontStyleWeight weight, SKFontStyleWidth width, SKFontStyleSlant slant) =>
        faces.MinBy(t => Math.Abs(t.FontWeight - (int)weight) + 100 * Math.Abs(t.FontWidth - (int)width)
                         + ((t.FontSlant == SKFontStyleSlant.Upright) == (slant == SKFontStyleSlant.Upright) ? 0 : 1000))!;

    private static IReadOnlyList<SKTypeface> Load(IReadOnlyList<string> folders)
    {
        var faces = new List<SKTypeface>();
        foreach (var folder in folders.Where(Directory.Exists))
            foreach (var file in Directory.EnumerateFiles(folder, "*.*", SearchOption.AllDirectories)
                         .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase)))
                if (SKTypeface.FromFile(file) is { } face) faces.Add(face);
        return faces;
    }
}
