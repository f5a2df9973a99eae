using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>
/// vCard 2.1, 3.0 and 4.0: one row per card. A card with one TEL gives its number; a card with several gives them all as
/// candidates with their labels (TYPE=CELL, 2.1's bare CELL, iPhone's type=IPHONE, WhatsApp's waid, or the X-ABLabel of
/// the same itemN group, which Apple writes before or after its TEL), and <see cref="PhoneChoice"/> takes the mobile one.
/// </summary>
public static class VCardReader
{
    public static IEnumerable<ContactRow> Read(string text) => Read(new StringReader(text));

    public static IEnumerable<ContactRow> Read(TextReader text)
    {
        string? name = null, formatted = null;
        var tels = new List<(string Value, string? Group, PhoneLabel Label, string Source)>();
        var groupLabels = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var cardLine = 0;
        var inCard = false;
        foreach (var (content, line) in Unfold(text))
        {
            var colon = content.IndexOf(':');
            if (colon < 0) continue;
            var head = content[..colon];
            var value = content[(colon + 1)..];
            var parts = head.Split(';');
            var property = parts[0].Trim().ToUpperInvariant();
            string? group = null;
            if (property.Contains('.'))
            {
                group = property[..property.LastIndexOf('.')];
                property = property[(property.LastIndexOf('.') + 1)..];
            }
            var parameters = parts.Skip(1).Select(p => p.Trim().ToUpperInvariant()).ToArray();
            if (parameters.Any(p => p.Contains("QUOTED-PRINTABLE"))) value = DecodeQuotedPrintable(value, parameters);

            switch (property)
            {
                case "BEGIN":
                    name = formatted = null;
                    tels.Clear();
                    groupLabels.Clear();
                    cardLine = line;
                    inCard = true;
                    break;
                case "FN" when inCard:
                    formatted = Unescape(value).Trim();
                    break;
                case "N" when inCard:
                    var n = value.Split(';');
                    name = Unescape($"{(n.Length > 1 ? n[1] : "")} {n[0]}").Trim();
                    break;
                case "X-ABLABEL" when inCard && group is not null:
                    groupLabels[group] = AppleLabel(Unescape(value).Trim());
                    break;
                case "TEL" when inCard:
                    // As written: a 4.0 card's tel: URI (with its phone-context and extension) is read by PhoneNormalizer.
                    tels.Add((value.Trim(), group, TypeLabel(parameters), head.Trim()));
                    break;
                case "END" when inCard:
                    inCard = false;
                    var display = string.IsNullOrWhiteSpace(formatted) ? name : formatted;
                    display = string.IsNullOrWhiteSpace(display) ? null : display;
                    if (tels.Count <= 1)
                    {
                        yield return new ContactRow(cardLine, tels.Count == 1 ? tels[0].Value : null, display);
                        break;
                    }
                    var candidates = tels.Select(t => Candidate(t.Value, t.Group, t.Label, t.Source, groupLabels)).ToArray();
                    yield return new ContactRow(cardLine, ContactRow.Joined(candidates), display, candidates);
                    break;
            }
        }
    }

    /// <summary>An X-ABLabel of the TEL's group wins over its TYPE: Apple writes the label the person chose there.</summary>
    private static PhoneCandidate Candidate(string value, string? group, PhoneLabel typed, string source, Dictionary<string, string> groupLabels)
    {
        if (group is null || !groupLabels.TryGetValue(group, out var label) || label.Length == 0) return new PhoneCandidate(value, typed, source);
        var fromLabel = PhoneChoice.LabelOf(label);
        return new PhoneCandidate(value, fromLabel == PhoneLabel.Unlabelled ? (typed == PhoneLabel.Unlabelled ? PhoneLabel.Other : typed) : fromLabel,
            $"{source} (X-ABLabel: {label})");
    }

    /// <summary>TYPE=CELL (3.0/4.0), a bare CELL (2.1), type=IPHONE, a WhatsApp share's waid: mobile; HOME, WORK, FAX, PAGER…: other.</summary>
    private static PhoneLabel TypeLabel(string[] parameters)
    {
        var types = string.Join(';', parameters);
        if (types.Contains("CELL") || types.Contains("MOBILE") || types.Contains("IPHONE") || types.Contains("WAID=")) return PhoneLabel.Mobile;
        if (types.Contains("HOME") || types.Contains("WORK") || types.Contains("FAX") || types.Contains("PAGER") || types.Contains("MAIN") || types.Contains("CAR"))
            return PhoneLabel.Other;
        return PhoneLabel.Unlabelled;
    }

    /// <summary>Apple's built-in labels are written as <c>_$!&lt;Mobile&gt;!$_</c>; a custom label as it was typed.</summary>
    private static string AppleLabel(string label) =>
        label.StartsWith("_$!<", StringComparison.Ordinal) && label.EndsWith(">!$_", StringComparison.Ordinal) ? label[4..^4] : label;

    private static string Unescape(string value) => value.Replace("\\,", ",").Replace("\\;", ";").Replace("\\n", " ").Replace("\\N", " ");

    /// <summary>Joins folded lines (a leading space or tab) and 2.1 soft line breaks ('=' at the end in QUOTED-PRINTABLE).</summary>
    private static IEnumerable<(string Content, int Line)> Unfold(TextReader reader)
    {
        var current = new StringBuilder();
        var start = 0;
        var lineNumber = 0;
        var quotedPrintable = false;
        var lines = new BoundedLineReader(reader);
        while (lines.ReadLine() is { } l)
        {
            lineNumber++;
            // Folded lines join into one: the limit holds for what they make together.
            if (current.Length > ImportLimits.MaxLineChars) throw BoundedLineReader.LineTooLong();
            if (l.Length > 0 && (l[0] == ' ' || l[0] == '\t') && current.Length > 0)
            {
                current.Append(l, 1, l.Length - 1);
                continue;
            }
            if (quotedPrintable && current.Length > 0 && current[^1] == '=')
            {
                current.Length--;
                current.Append(l);
                continue;
            }
            if (current.Length > 0) yield return (current.ToString(), start);
            current.Clear().Append(l);
            start = lineNumber;
            var colon = l.IndexOf(':');
            quotedPrintable = colon > 0 && l.AsSpan(0, colon).Contains("QUOTED-PRINTABLE", StringComparison.OrdinalIgnoreCase);
        }
        if (current.Length > 0) yield return (current.ToString(), start);
    }

    private static string DecodeQuotedPrintable(string value, string[] parameters)
    {
        var charset = parameters.FirstOrDefault(p => p.StartsWith("CHARSET=", StringComparison.Ordinal))?[8..] ?? "UTF-8";
        var bytes = new List<byte>(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '=' && i + 2 < value.Length && Uri.IsHexDigit(value[i + 1]) && Uri.IsHexDigit(value[i + 2]))
            {
                bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16));
                i += 2;
            }
            else bytes.AddRange(Encoding.UTF8.GetBytes(value[i].ToString()));
        }
        Encoding encoding;
        try { encoding = Encoding.GetEncoding(charset); }
        catch (ArgumentException) { encoding = Encoding.UTF8; }
        return encoding.GetString(bytes.ToArray());
    }
}
