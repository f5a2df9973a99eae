using System.Text;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The style rules an SVG logo may keep: presentation properties with values that can reach nothing outside the file.
/// Used for presentation attributes (fill="…"), style attributes and &lt;style&gt; sheets alike, and what it keeps it
/// writes anew, so the stored file holds only text this class produced. A value may call url() only for a fragment of
/// the same file (url(#id): a gradient, clip path or mask), and no other function than colour and transform functions;
/// CSS escapes (a backslash), @import, @font-face, expression(), javascript: and the like are never kept.
/// </summary>
internal static partial class NewsletterLogoSvgCss
{
    /// <summary>Properties a logo needs to look like its drawing, as CSS properties and as SVG presentation attributes.</summary>
    internal static readonly HashSet<string> Properties = new(StringComparer.Ordinal)
    {
        "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-linecap", "stroke-linejoin",
        "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset", "opacity", "color", "display", "visibility",
        "clip-path", "clip-rule", "mask", "stop-color", "stop-opacity", "font-family", "font-size", "font-weight",
        "font-style", "font-variant", "font-stretch", "letter-spacing", "word-spacing", "text-anchor", "dominant-baseline",
        "alignment-baseline", "baseline-shift", "text-decoration", "isolation", "mix-blend-mode", "paint-order",
        "vector-effect", "shape-rendering", "text-rendering", "color-interpolation", "overflow", "writing-mode",
        "enable-background",
    };

    // Functions a value may call besides url(#id): colours, and the transform list of the transform attributes.
    private static readonly HashSet<string> Functions = new(StringComparer.OrdinalIgnoreCase)
    {
        "rgb", "rgba", "hsl", "hsla", "matrix", "translate", "scale", "rotate", "skewx", "skewy",
    };

    /// <summary>
    /// The value made safe, or null when it must go. <paramref name="references"/> collects the ids it points at.
    /// Only letters, digits, spaces and . , # % - + _ ( ) and quotes get through, so a value cannot close its
    /// declaration, rule or attribute, and every parenthesis must belong to an allowed function.
    /// </summary>
    internal static string? SafeValue(string value, List<string>? references)
    {
        var v = value.Trim();
        if (v.Length == 0 || v.Length > 100_000) return null;
        foreach (var c in v)
            if (!(char.IsAsciiLetterOrDigit(c) || c is ' ' or '\t' or '\n' or '\r' or '.' or ',' or '#' or '%' or '-' or '+' or '_' or '(' or ')' or '\'' or '"' or '!'))
                return null;
        var found = new List<string>();
        var rest = UrlFragment().Replace(v, m =>
        {
            found.Add(m.Groups[1].Value);
            return "";
        });
        // Whatever parenthesis is left must open an allowed function; "url(" left over pointed elsewhere.
        foreach (Match call in Call().Matches(rest))
            if (!Functions.Contains(call.Groups[1].Value)) return null;
        if (rest.Count(c => c == '(') != Call().Count(rest)) return null;
        if (v.Contains('!') && !v.EndsWith("!important", StringComparison.OrdinalIgnoreCase)) return null;
        references?.AddRange(found);
        // url( '#a' ) becomes url(#a): what is stored is written by us.
        return UrlFragment().Replace(v, m => $"url(#{m.Groups[1].Value})");
    }

    /// <summary>The declarations of a style attribute (or rule body) that may stay, written anew; empty when none.</summary>
    internal static string Declarations(string text, List<string> references, ref int dropped)
    {
        var kept = new StringBuilder();
        foreach (var declaration in text.Split(';'))
        {
            if (declaration.Trim().Length == 0) continue;
            var colon = declaration.IndexOf(':');
            var name = colon > 0 ? declaration[..colon].Trim().ToLowerInvariant() : "";
            var value = colon > 0 && Properties.Contains(name) ? SafeValue(declaration[(colon + 1)..], references) : null;
            if (value is null)
            {
                dropped++;
                continue;
            }
            kept.Append(name).Append(':').Append(value).Append(';');
        }
        return kept.ToString();
    }

    /// <summary>
    /// A &lt;style&gt; sheet reduced to rules with simple selectors (a type, classes, an id: what Illustrator and
    /// Affinity export) and allowed declarations; at-rules (@import, @font-face, @media …) and anything else go.
    /// A sheet with a backslash (CSS escapes can spell "url" or "import" in hiding) or an unterminated comment goes whole.
    /// </summary>
    internal static List<StyleRule> Sheet(string text, ref int dropped)
    {
        var rules = new List<StyleRule>();
        if (text.Contains('\\') || text.Contains('<'))
        {
            dropped++;
            return rules;
        }
        var css = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    dropped++;
                    return [];
                }
                i = end + 1;
                css.Append(' ');
                continue;
            }
            css.Append(text[i]);
        }
        var s = css.ToString();
        var pos = 0;
        while (pos < s.Length)
        {
            while (pos < s.Length && char.IsWhiteSpace(s[pos])) pos++;
            if (pos >= s.Length) break;
            var open = s.IndexOf('{', pos);
            var semicolon = s.IndexOf(';', pos);
            if (s[pos] == '@' && semicolon >= 0 && (open < 0 || semicolon < open))
            {
                dropped++; // a statement at-rule such as @import url(…); or @charset
                pos = semicolon + 1;
                continue;
            }
            if (open < 0)
            {
                dropped++;
                break;
            }
            var close = BlockEnd(s, open);
            if (close < 0)
            {
                dropped++;
                break;
            }
            var prelude = s[pos..open].Trim();
            var body = s[(open + 1)..close];
            pos = close + 1;
            var selectors = prelude.Split(',').Select(x => x.Trim()).ToList();
            if (prelude.StartsWith('@') || body.Contains('{') || selectors.Any(x => x.Length == 0 || !SimpleSelector().IsMatch(x)))
            {
                dropped++;
                continue;
            }
            var references = new List<string>();
            var declarations = Declarations(body, references, ref dropped);
            if (declarations.Length > 0) rules.Add(new StyleRule(selectors, declarations, references));
        }
        return rules;
    }

    /// <summary>The index of the brace closing the block opened at <paramref name="open"/>, nested blocks included; -1 when unclosed.</summary>
    private static int BlockEnd(string s, int open)
    {
        var depth = 0;
        for (var i = open; i < s.Length; i++)
        {
            if (s[i] == '{') depth++;
            else if (s[i] == '}' && --depth == 0) return i;
        }
        return -1;
    }

    /// <summary>A simple selector (type, .class, #id, compounded, no combinators) read once, to be matched against every element.</summary>
    internal static SimpleSelectorParts Parse(string selector)
    {
        var m = SimpleSelector().Match(selector);
        var type = m.Groups["type"].Value is { Length: > 0 } t && t != "*" ? t : null;
        var parts = m.Groups["part"].Captures.Select(c => c.Value).ToList();
        return new SimpleSelectorParts(type, [.. parts.Where(p => p[0] == '#').Select(p => p[1..])], [.. parts.Where(p => p[0] == '.').Select(p => p[1..])]);
    }

    [GeneratedRegex(@"url\(\s*['""]?#([A-Za-z_][\w.\-]*)['""]?\s*\)", RegexOptions.IgnoreCase)]
    private static partial Regex UrlFragment();

    [GeneratedRegex(@"([A-Za-z\-]+)\s*\(")]
    private static partial Regex Call();

    [GeneratedRegex(@"^(?<type>\*|[A-Za-z][\w\-]*)?(?<part>[.#][A-Za-z_\-][\w\-]*)*$")]
    private static partial Regex SimpleSelector();
}

/// <summary>A simple selector's parts; it matches an element that has the type (when given), every id and every class.</summary>
internal sealed record SimpleSelectorParts(string? Type, IReadOnlyList<string> Ids, IReadOnlyList<string> Classes)
{
    public bool Matches(string element, string? id, IReadOnlyCollection<string> classes) =>
        (Type is null || Type == element) && Ids.All(i => i == id) && Classes.All(classes.Contains);
}

/// <summary>One kept rule of a &lt;style&gt; sheet: its simple selectors, its declarations as written, the ids its url()s name.</summary>
internal sealed record StyleRule(IReadOnlyList<string> Selectors, string Declarations, IReadOnlyList<string> References)
{
    public override string ToString() => $"{string.Join(",", Selectors)}{{{Declarations}}}";
}
