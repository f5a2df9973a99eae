using System.Globalization;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Common;

/// <summary>
/// A newsletter's primary colour and the colours derived from it, so that any colour an editor picks stays readable:
/// text on the colour (a button, the reader header) is white or near-black, whichever contrasts more; links on white
/// and on the dark-mode card are the colour darkened or lightened until they reach WCAG AA (4.5:1 for normal text).
/// </summary>
public sealed partial record BrandColour(string Hex)
{
    /// <summary>The colour of an installation that has not chosen one: the reader header's blue.</summary>
    public static readonly BrandColour Default = new("#1f3a5f");

    public const string White = "#ffffff";
    public const string Ink = "#111827";
    /// <summary>The dark-mode card of the mail layout, against which dark-mode links are measured.</summary>
    public const string DarkCard = "#1f2937";
    private const double ReadableContrast = 4.5;

    /// <summary>The colour stored for a newsletter, or the default when it has none (or, from an old row, an invalid one).</summary>
    public static BrandColour Of(string? stored) => TryParse(stored, out var colour) && colour is not null ? colour : Default;

    /// <summary>Accepts "#rrggbb", "rrggbb", "#rgb" in any case; the result is "#rrggbb" in lower case. Empty: false.</summary>
    public static bool TryParse(string? value, out BrandColour? colour)
    {
        colour = null;
        var match = HexPattern().Match(value?.Trim() ?? "");
        if (!match.Success) return false;
        var digits = match.Groups[1].Value.ToLowerInvariant();
        if (digits.Length == 3) digits = string.Concat(digits.Select(c => $"{c}{c}"));
        colour = new BrandColour("#" + digits);
        return true;
    }

    /// <summary>Text on the colour: white when white contrasts at least as well as near-black does.</summary>
    public string OnColour => Contrast(Hex, White) >= Contrast(Hex, Ink) ? White : Ink;

    /// <summary>The colour for links and buttons on white: itself when readable, else darkened just enough.</summary>
    public string OnWhite => Adjust(Hex, White, towards: 0);

    /// <summary>The colour for links on the dark-mode card: itself when readable there, else lightened just enough.</summary>
    public string OnDark => Adjust(Hex, DarkCard, towards: 255);

    /// <summary>WCAG 2 contrast ratio of two "#rrggbb" colours (1 to 21).</summary>
    public static double Contrast(string a, string b)
    {
        var (la, lb) = (Luminance(a), Luminance(b));
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }

    // Mixes the colour step by step towards black (0) or white (255) until it reads on the background.
    private static string Adjust(string hex, string background, int towards)
    {
        var (r, g, b) = Channels(hex);
        for (var step = 0; step <= 20; step++)
        {
            var t = step / 20.0;
            var candidate = Format(Mix(r, towards, t), Mix(g, towards, t), Mix(b, towards, t));
            if (Contrast(candidate, background) >= ReadableContrast) return candidate;
        }
        return towards == 0 ? "#000000" : White;
    }

    private static int Mix(int channel, int target, double t) => (int)Math.Round(channel + (target - channel) * t);

    private static string Format(int r, int g, int b) => $"#{r:x2}{g:x2}{b:x2}";

    private static (int R, int G, int B) Channels(string hex) => (
        int.Parse(hex.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
        int.Parse(hex.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));

    private static double Luminance(string hex)
    {
        var (r, g, b) = Channels(hex);
        return 0.2126 * Linear(r) + 0.7152 * Linear(g) + 0.0722 * Linear(b);
    }

    private static double Linear(int channel)
    {
        var c = channel / 255.0;
        return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
    }

    [GeneratedRegex("^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")]
    private static partial Regex HexPattern();
}
