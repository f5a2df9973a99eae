using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;

namespace NewsletterMigrator.Newsletters;

/// <summary>Why an uploaded SVG logo was refused; each has its own message (LogoSvg_* in the resources).</summary>
public enum LogoSvgRefusal
{
    NotSvg,
    Doctype,
    Broken,
    NoSize,
    TooLarge,
    TooComplex,
    CircularReference,
    NothingDrawable,
}

/// <summary>
/// An SVG logo as we wrote it after cleaning: its own size (width and height, else the view box), and what was taken out (for the editor's message and
/// the audit: distinct element names, and how many attributes and style declarations).
/// </summary>
public sealed record CleanSvgLogo(byte[] Content, double Width, double Height, IReadOnlyList<string> RemovedElements, int RemovedAttributes, bool HasText)
{
    /// <summary>The size pages reserve and the mail raster has: see <see cref="NewsletterLogoSvg.PixelSize"/>.</summary>
    public (int Width, int Height) PixelSize => NewsletterLogoSvg.PixelSize(Width, Height);
}

/// <summary>
/// Checks an uploaded SVG by its content and writes it anew from an allowlist: the SVG elements and attributes a logo
/// draws with (shapes, paths, text, groups, gradients, clip paths, masks, &lt;use&gt; of a local element), and nothing
/// else. Scripts, event handlers (on…), &lt;foreignObject&gt;, &lt;image&gt;, animation, links, filters, fonts, editor
/// data (Inkscape, Sodipodi, Adobe, RDF metadata) and every reference outside the file go; href is kept only as a
/// local "#id", url() only as url(#id) (<see cref="NewsletterLogoSvgCss"/>). A DOCTYPE is refused before parsing and
/// the reader prohibits one too (no entities, so no "billion laughs" and no external entity), and has no resolver.
/// The output is produced by an XmlWriter from the kept parts only, so what is stored is what we wrote.
/// Served from our origin into an &lt;img&gt; (where no browser runs SVG script anyway) and, opened directly, under its
/// own CSP with sandbox (<see cref="NewsletterLogoEndpoint"/>): the allowlist is the first wall, not the only one.
/// </summary>
public static partial class NewsletterLogoSvg
{
    public const string ContentType = "image/svg+xml";

    /// <summary>An upload larger than this is refused unread: editors' exports with metadata reach 100–300 KB for a logo.</summary>
    public const int MaxUploadBytes = 512 * 1024;

    /// <summary>
    /// What is stored and served: the same 24 KB as a PNG (<see cref="NewsletterLogoPng.MaxStoredBytes"/>), from the
    /// consent page's 50 KB budget for a first visit. The SVG is sent as stored (image/svg+xml is not among the types
    /// the pages' compression handles, and a file cached for a year is not worth compressing on every first visit), so
    /// its stored size is what a phone loads. A cleaned word mark or emblem is 2–12 KB.
    /// </summary>
    public const int MaxStoredBytes = 24 * 1024;

    /// <summary>
    /// Elements drawn, counting each &lt;use&gt;, clip path and mask as often as it is drawn: a few hundred for a
    /// detailed logo. The cap keeps nested &lt;use&gt; (the SVG form of "billion laughs": ten uses of ten uses of …)
    /// from costing the rasteriser or a reader's phone seconds.
    /// </summary>
    public const int MaxElements = 4000;

    private const int MaxDepth = 64;

    /// <summary>The height of the mail raster and of the size pages reserve: 2x of the 40 CSS pixels shown.</summary>
    public const int PixelHeight = 80;

    internal const string SvgNs = "http://www.w3.org/2000/svg";
    private const string XlinkNs = "http://www.w3.org/1999/xlink";
    private const string XmlNs = "http://www.w3.org/XML/1998/namespace";

    private static readonly HashSet<string> Elements = new(StringComparer.Ordinal)
    {
        "svg", "g", "defs", "symbol", "use", "switch", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
        "text", "tspan", "linearGradient", "radialGradient", "stop", "clipPath", "mask", "title", "desc", "style",
    };

    // Elements whose content is never drawn where it stands, only where something refers to it.
    private static readonly HashSet<string> Referenced = new(StringComparer.Ordinal)
        { "defs", "symbol", "linearGradient", "radialGradient", "clipPath", "mask", "title", "desc", "style" };

    private static readonly HashSet<string> Drawn = new(StringComparer.Ordinal)
        { "path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "use" };

    private static readonly HashSet<string> TextHolders = new(StringComparer.Ordinal) { "text", "tspan", "title", "desc", "style" };

    /// <summary>Geometry and structure attributes; presentation attributes come from <see cref="NewsletterLogoSvgCss.Properties"/>.</summary>
    private static readonly HashSet<string> Attributes = new(StringComparer.Ordinal)
    {
        "viewBox", "preserveAspectRatio", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
        "fx", "fy", "fr", "d", "points", "pathLength", "transform", "gradientUnits", "gradientTransform", "spreadMethod",
        "offset", "clipPathUnits", "maskUnits", "maskContentUnits", "dx", "dy", "rotate", "textLength", "lengthAdjust",
    };

    /// <summary>Whether the file looks like XML (after a byte order mark and white space, a "&lt;"): the SVG candidate.</summary>
    public static bool LooksLikeXml(ReadOnlySpan<byte> file)
    {
        if (file.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) file = file[3..];
        var i = 0;
        while (i < file.Length && file[i] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') i++;
        return i < file.Length && file[i] == (byte)'<';
    }

    /// <summary>The cleaned logo, or why it is refused with a number for the message (a line, a count, kilobytes).</summary>
    public static (CleanSvgLogo? Logo, LogoSvgRefusal? Refusal, int Detail) Clean(byte[] file)
    {
        if (file.Length > MaxUploadBytes) return (null, LogoSvgRefusal.TooLarge, file.Length / 1024);
        // Refused before parsing, with its own message: Illustrator's "Save as SVG" writes a DOCTYPE with entities.
        if (file.AsSpan().IndexOf("<!DOCTYPE"u8) >= 0 || file.AsSpan().IndexOf("<!doctype"u8) >= 0) return (null, LogoSvgRefusal.Doctype, 0);

        var reading = new Reading();
        Node? root;
        try
        {
            root = Read(file, reading);
        }
        catch (XmlException e)
        {
            return (null, e.Message.Contains("DTD", StringComparison.Ordinal) ? LogoSvgRefusal.Doctype : LogoSvgRefusal.Broken, e.LineNumber);
        }
        catch (TooComplexException)
        {
            return (null, LogoSvgRefusal.TooComplex, reading.Elements);
        }

        if (root is null) return (null, LogoSvgRefusal.NotSvg, 0);
        if (ViewBox(root) is not { } view) return (null, LogoSvgRefusal.NoSize, 0);
        if (!ApplyStyleSheets(root, reading)) return (null, LogoSvgRefusal.TooComplex, reading.Elements);
        var ids = IndexIds(root, reading);
        DropDanglingUses(root, ids, reading);
        var drawn = DrawnCount(root, ids);
        if (drawn is null) return (null, LogoSvgRefusal.CircularReference, 0);
        if (drawn > MaxElements) return (null, LogoSvgRefusal.TooComplex, (int)Math.Min(drawn.Value, int.MaxValue));
        if (!HasDrawing(root)) return (null, LogoSvgRefusal.NothingDrawable, 0);

        var content = Write(root);
        if (content.Length > MaxStoredBytes) return (null, LogoSvgRefusal.TooLarge, (content.Length + 1023) / 1024);
        return (new CleanSvgLogo(content, view.Width, view.Height, reading.RemovedElements.Order(StringComparer.Ordinal).ToList(), reading.RemovedAttributes,
            All(root).Any(n => n.Name == "text" && HasText(n))), null, 0);
    }

    /// <summary>80 pixels high (2x of the 40 shown), the width from the aspect ratio, at most <see cref="NewsletterLogoPng.MaxSide"/> (then lower).</summary>
    public static (int Width, int Height) PixelSize(double viewWidth, double viewHeight)
    {
        var width = PixelHeight * viewWidth / viewHeight;
        if (width <= NewsletterLogoPng.MaxSide) return (Math.Max(1, (int)Math.Round(width)), PixelHeight);
        return (NewsletterLogoPng.MaxSide, Math.Max(1, (int)Math.Round(NewsletterLogoPng.MaxSide * viewHeight / viewWidth)));
    }

    private sealed class Node(string name)
    {
        public string Name { get; } = name;
        public List<(string Name, string Value)> Attributes { get; } = [];
        /// <summary>Child elements (<see cref="Node"/>) and text (string), in document order.</summary>
        public List<object> Children { get; } = [];
        public string? Id { get; set; }
        public List<string> Classes { get; } = [];
        /// <summary>The ids this element points at: href, url(#…) in attributes, style and matching &lt;style&gt; rules.</summary>
        public List<string> References { get; } = [];
        public string? Href { get; set; }
        public List<StyleRule> Rules { get; } = [];
        public IEnumerable<Node> Elements => Children.OfType<Node>();
    }

    private sealed class Reading
    {
        public int Elements;
        public int RemovedAttributes;
        public HashSet<string> RemovedElements { get; } = new(StringComparer.Ordinal);
    }

    private sealed class TooComplexException : Exception;

    private static Node? Read(byte[] file, Reading reading)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            MaxCharactersInDocument = MaxUploadBytes,
            MaxCharactersFromEntities = 1024,
        };
        using var reader = XmlReader.Create(new MemoryStream(file, writable: false), settings);
        reader.MoveToContent();
        // An <svg> in the SVG namespace; one without any namespace (some tools leave it out) is written with it.
        if (reader.NodeType != XmlNodeType.Element || reader.LocalName != "svg" || reader.NamespaceURI is not (SvgNs or "")) return null;
        var ns = reader.NamespaceURI;
        reading.Elements = 1;
        var root = NewNode(reader, reading);
        ReadChildren(reader, root, ns, 1, reading);
        while (reader.Read()) { } // the rest must be well-formed too (only comments and white space may follow)
        return root;
    }

    private static void ReadChildren(XmlReader reader, Node node, string ns, int depth, Reading reading)
    {
        if (reader.IsEmptyElement) return;
        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.EndElement:
                    return;
                case XmlNodeType.Element:
                    if (++reading.Elements > MaxElements * 4 || depth + 1 > MaxDepth) throw new TooComplexException();
                    if (reader.NamespaceURI == ns && Elements.Contains(reader.LocalName) && reader.LocalName != "svg")
                    {
                        var child = NewNode(reader, reading);
                        node.Children.Add(child);
                        ReadChildren(reader, child, ns, depth + 1, reading);
                    }
                    else
                    {
                        reading.RemovedElements.Add(reader.Name);
                        SkipContent(reader, reading);
                    }
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    if (TextHolders.Contains(node.Name)) node.Children.Add(reader.Value);
                    break;
            }
        }
    }

    /// <summary>Reads past a dropped element's content, still counting its elements against the limit.</summary>
    private static void SkipContent(XmlReader reader, Reading reading)
    {
        if (reader.IsEmptyElement) return;
        var depth = reader.Depth;
        while (reader.Read() && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
            if (reader.NodeType == XmlNodeType.Element && ++reading.Elements > MaxElements * 4) throw new TooComplexException();
    }

    private static Node NewNode(XmlReader reader, Reading reading)
    {
        var node = new Node(reader.LocalName);
        if (!reader.MoveToFirstAttribute()) return node;
        do
        {
            var (name, value, ns) = (reader.LocalName, reader.Value, reader.NamespaceURI);
            if (ns == "http://www.w3.org/2000/xmlns/") continue; // declarations: written anew
            if (!KeepAttribute(node, name, value, ns)) reading.RemovedAttributes++;
        } while (reader.MoveToNextAttribute());
        reader.MoveToElement();
        return node;
    }

    private static bool KeepAttribute(Node node, string name, string value, string ns)
    {
        if (ns == XmlNs)
        {
            if (name != "space" || value is not ("preserve" or "default")) return false;
            node.Attributes.Add(("xml:space", value));
            return true;
        }
        if (name == "href" && ns is "" or XlinkNs)
        {
            // Only a fragment of this file, on the elements that take one: no other file, no javascript:, no data:.
            if (node.Name is not ("use" or "linearGradient" or "radialGradient") || LocalReference().Match(value) is not { Success: true } local) return false;
            node.Href = local.Groups[1].Value;
            node.References.Add(node.Href);
            return true;
        }
        if (ns != "") return false; // inkscape:, sodipodi:, i: (Adobe), data in other namespaces
        switch (name)
        {
            case "id":
                if (!IdShape().IsMatch(value)) return false;
                node.Id = value;
                return true;
            case "class":
                var classes = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (classes.Length == 0 || classes.Any(c => !ClassShape().IsMatch(c))) return false;
                node.Classes.AddRange(classes);
                node.Attributes.Add(("class", string.Join(' ', classes)));
                return true;
            case "style":
                var dropped = 0;
                var declarations = NewsletterLogoSvgCss.Declarations(value, node.References, ref dropped);
                if (declarations.Length == 0) return false;
                node.Attributes.Add(("style", declarations));
                return dropped == 0;
            case "type" when node.Name == "style":
                return value.Trim() == "text/css"; // the default; not written again
        }
        if (!Attributes.Contains(name) && !NewsletterLogoSvgCss.Properties.Contains(name)) return false;
        if (NewsletterLogoSvgCss.SafeValue(value, node.References) is not { } safe) return false;
        node.Attributes.Add((name, safe));
        return true;
    }

    /// <summary>
    /// The image's size: its width and height in pixels, else its view box's. A view box is written onto the root (made
    /// from width and height where it has none); null: no usable size.
    /// </summary>
    private static (double Width, double Height)? ViewBox(Node root)
    {
        var viewBox = root.Attributes.FirstOrDefault(a => a.Name == "viewBox").Value;
        var width = Pixels(root.Attributes.FirstOrDefault(a => a.Name == "width").Value);
        var height = Pixels(root.Attributes.FirstOrDefault(a => a.Name == "height").Value);
        // Percentages, em or mm on the root mean nothing for an image of its own: the view box gives the size.
        root.Attributes.RemoveAll(a => a.Name is "width" or "height" or "x" or "y");
        // Both in pixels: they are the image's own size (its aspect ratio, also where preserveAspectRatio letterboxes the view box).
        (double, double)? own = width is { } w0 && height is { } h0 ? (w0, h0) : null;
        if (own is var (ownWidth, ownHeight))
        {
            root.Attributes.Add(("width", Number(ownWidth)));
            root.Attributes.Add(("height", Number(ownHeight)));
        }
        if (viewBox is not null)
        {
            var parts = viewBox.Split([' ', ',', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 4 && parts.All(p => double.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                var values = parts.Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
                if (Usable(values[2]) && Usable(values[3])) return own ?? (values[2], values[3]);
            }
            root.Attributes.RemoveAll(a => a.Name == "viewBox");
        }
        if (width is not { } w || height is not { } h) return null;
        root.Attributes.Add(("viewBox", $"0 0 {Number(w)} {Number(h)}"));
        return (w, h);
    }

    private static bool Usable(double v) => double.IsFinite(v) && v > 0 && v < 1e6;

    private static double? Pixels(string? value) =>
        value is not null && PixelLength().Match(value) is { Success: true } m
        && double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && Usable(v) ? v : null;

    private static string Number(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// Each kept &lt;style&gt; sheet's rules: kept on the style node, and their url(#…) counted as references of the elements they
    /// match. False when matching would cost more than <see cref="MaxSelectorChecks"/>: rules times elements, which a 512 KB
    /// sheet over thousands of elements could push to hundreds of millions.
    /// </summary>
    private static bool ApplyStyleSheets(Node root, Reading reading)
    {
        var rules = new List<StyleRule>();
        foreach (var style in All(root).Where(n => n.Name == "style"))
        {
            var dropped = 0;
            style.Rules.AddRange(NewsletterLogoSvgCss.Sheet(string.Concat(style.Children.OfType<string>()), ref dropped));
            style.Children.Clear();
            reading.RemovedAttributes += dropped;
            rules.AddRange(style.Rules);
        }
        var referring = rules.Where(r => r.References.Count > 0).ToList();
        if (referring.Count == 0) return true;
        var elements = All(root).ToList();
        if ((long)referring.Count * elements.Count > MaxSelectorChecks) return false;
        foreach (var rule in referring)
        {
            var selectors = rule.Selectors.Select(NewsletterLogoSvgCss.Parse).ToList();
            foreach (var node in elements.Where(n => selectors.Any(s => s.Matches(n.Name, n.Id, n.Classes))))
                node.References.AddRange(rule.References);
        }
        return true;
    }

    /// <summary>Far above any logo (a few dozen rules with url() over at most <see cref="MaxElements"/> elements).</summary>
    private const long MaxSelectorChecks = 2_000_000;

    /// <summary>The elements by id (the first of a duplicate keeps it, as in browsers); ids are written from here.</summary>
    private static Dictionary<string, Node> IndexIds(Node root, Reading reading)
    {
        var ids = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in All(root).Where(n => n.Id is not null))
        {
            if (ids.TryAdd(node.Id!, node)) node.Attributes.Insert(0, ("id", node.Id!));
            else
            {
                node.Id = null;
                reading.RemovedAttributes++;
            }
        }
        return ids;
    }

    /// <summary>A &lt;use&gt; without a kept target draws nothing: it goes (its href named something we dropped or never had).</summary>
    private static void DropDanglingUses(Node root, Dictionary<string, Node> ids, Reading reading)
    {
        foreach (var node in All(root))
        {
            var dangling = node.Children.RemoveAll(c => c is Node { Name: "use" } use && (use.Href is null || !ids.ContainsKey(use.Href)));
            if (dangling > 0) reading.RemovedElements.Add("use");
        }
    }

    /// <summary>
    /// How many elements are drawn, counting a &lt;use&gt;'s target, a clip path and a mask once per reference (paint
    /// servers are cheap and count once); null when references form a circle (a clip path clipped by itself, a
    /// &lt;use&gt; of its own ancestor), which some renderers follow until their stack runs out. Iterative: a long
    /// chain of references must not exhaust ours either.
    /// </summary>
    private static long? DrawnCount(Node root, Dictionary<string, Node> ids)
    {
        var state = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance); // 1: on the path, 2: counted
        var count = new Dictionary<Node, long>(ReferenceEqualityComparer.Instance);
        List<Node> Edges(Node n) =>
            n.Elements.Concat(n.References.Where(ids.ContainsKey).Select(id => ids[id])).ToList();
        var stack = new Stack<(Node Node, List<Node> Edges, int Next)>();
        stack.Push((root, Edges(root), 0));
        state[root] = 1;
        while (stack.Count > 0)
        {
            var (node, edges, next) = stack.Pop();
            if (next < edges.Count)
            {
                stack.Push((node, edges, next + 1));
                var target = edges[next];
                switch (state.GetValueOrDefault(target))
                {
                    case 1: return null;
                    case 0:
                        state[target] = 1;
                        stack.Push((target, Edges(target), 0));
                        break;
                }
                continue;
            }
            long total = 1;
            foreach (var child in node.Elements) total += count[child];
            foreach (var id in node.References.Where(ids.ContainsKey))
                if (ids[id].Name is not ("linearGradient" or "radialGradient")) total += count[ids[id]];
            count[node] = Math.Min(total, int.MaxValue);
            state[node] = 2;
        }
        return count[root];
    }

    /// <summary>Something is drawn where it stands: a shape, a text with characters, or a &lt;use&gt;, outside defs, clip paths, masks and the like.</summary>
    private static bool HasDrawing(Node node) =>
        node.Elements.Any(c => !Referenced.Contains(c.Name)
                               && (Drawn.Contains(c.Name) && (c.Name != "text" || HasText(c)) || HasDrawing(c)));

    private static bool HasText(Node node) =>
        node.Children.Any(c => c is string s ? !string.IsNullOrWhiteSpace(s) : HasText((Node)c));

    private static IEnumerable<Node> All(Node root)
    {
        var stack = new Stack<Node>([root]);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            yield return node;
            foreach (var child in node.Elements.Reverse()) stack.Push(child);
        }
    }

    private static byte[] Write(Node root)
    {
        using var output = new MemoryStream();
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), OmitXmlDeclaration = true, Indent = false };
        using (var writer = XmlWriter.Create(output, settings))
        {
            writer.WriteStartElement("svg", SvgNs);
            if (All(root).Any(n => n.Href is not null)) writer.WriteAttributeString("xmlns", "xlink", null, XlinkNs);
            WriteContent(writer, root);
            writer.WriteEndElement();
        }
        return output.ToArray();
    }

    private static void WriteContent(XmlWriter writer, Node node)
    {
        foreach (var (name, value) in node.Attributes)
        {
            if (name == "xml:space") writer.WriteAttributeString("xml", "space", XmlNs, value);
            else writer.WriteAttributeString(name, value);
        }
        if (node.Href is not null) writer.WriteAttributeString("xlink", "href", XlinkNs, "#" + node.Href);
        if (node.Name == "style") writer.WriteString(string.Concat(node.Rules));
        foreach (var child in node.Children)
        {
            if (child is string text)
            {
                writer.WriteString(text);
                continue;
            }
            var element = (Node)child;
            writer.WriteStartElement(element.Name, SvgNs);
            WriteContent(writer, element);
            writer.WriteEndElement();
        }
    }

    [GeneratedRegex(@"^\s*#([A-Za-z_][\w.\-]*)\s*$")]
    private static partial Regex LocalReference();

    [GeneratedRegex(@"^[A-Za-z_][\w.\-]*$")]
    private static partial Regex IdShape();

    [GeneratedRegex(@"^[A-Za-z_\-][\w\-]*$")]
    private static partial Regex ClassShape();

    [GeneratedRegex(@"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?:px)?\s*$")]
    private static partial Regex PixelLength();
}
