using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>vCard 2.1, 3.0 and 4.0: one row per card with its mobile number; landlines are reported, not imported.</summary>
public static class VCardReader
{
    public static IEnumerable<ContactRow> Read(string text) => Read(new StringReader(text));

    public static IEnumerable<ContactRow> Read(TextReader text)
    {
        string? name = null, formatted = null;
        var tels = new List<(string Value, bool Mobile, bool Typed)>();
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
            if (property.Contains('.')) property = property[(property.LastIndexOf('.') + 1)..];
            var parameters = parts.Skip(1).Select(p => p.Trim().ToUpperInvariant()).ToArray();
            if (parameters.Any(p => p.Contains("QUOTED-PRINTABLE"))) value = DecodeQuotedPrintable(value, parameters);

            switch (property)
            {
                case "BEGIN":
                    name = formatted = null;
                    tels.Clear();
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
                case "TEL" when inCard:
                    var types = string.Join(';', parameters);
                    var mobile = types.Contains("CELL") || types.Contains("MOBILE") || types.Contains("IPHONE");
                    var typed = types.Contains("TYPE=") || parameters.Any(p => p is "HOME" or "WORK" or "VOICE" or "FAX" or "PAGER") || mobile;
                    var number = value.Trim();
                    if (number.StartsWith("tel:", StringComparison.OrdinalIgnoreCase)) number = number[4..];
                    var semicolon = number.IndexOf(';'); // tel:+49...;ext=12
                    if (semicolon >= 0) number = number[..semicolon];
                    tels.Add((number, mobile, typed));
                    break;
                case "END" when inCard:
                    inCard = false;
                    var display = string.IsNullOrWhiteSpace(formatted) ? name : formatted;
                    // The card's number: its mobile one, else its only untyped one; the others are reported.
                    var chosen = tels.FindIndex(t => t.Mobile);
                    if (chosen < 0 && tels.Count > 0 && !tels[0].Typed) chosen = 0;
                    if (chosen < 0 && tels.Count > 0) chosen = 0; // reported as "not a mobile number"
                    var skipped = tels.Where((_, i) => i != chosen).Select(t => t.Value).ToList();
                    yield return new ContactRow(cardLine, chosen >= 0 ? tels[chosen].Value : null, string.IsNullOrWhiteSpace(display) ? null : display,
                        skipped.Count > 0 ? skipped : null);
                    break;
            }
        }
    }

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
