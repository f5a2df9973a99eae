using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>vCard 2.1, 3.0 and 4.0: one row per card with its mobile number; landlines are reported, not imported.</summary>
public static class VCardReader
{
    public static IEnumerable<ContactRow> Read(string text)
    {
        string? name = null, formatted = null;
        var tels = new List<(string Value, bool Mobile, bool Typed)>();
        var cardLine = 0;
        var line = 0;
        foreach (var (content, startLine) in Unfold(text))
        {
            line = startLine;
            var colon = content.IndexOf(':');
            if (colon < 0) continue;
            var head = content[..colon];
            var value = content[(colon + 1)..];
            var parts = head.Split(';');
            var property = parts[0].ToUpperInvariant();
            if (property.Contains('.')) property = property[(property.LastIndexOf('.') + 1)..];
            var parameters = parts.Skip(1).Select(p => p.ToUpperInvariant()).ToArray();
            if (parameters.Any(p => p.Contains("QUOTED-PRINTABLE"))) value = DecodeQuotedPrintable(value, parameters);

            switch (property)
            {
                case "BEGIN":
                    name = formatted = null;
                    tels.Clear();
                    cardLine = line;
                    break;
                case "FN":
                    formatted = value.Trim();
                    break;
                case "N":
                    var n = value.Split(';');
                    name = $"{(n.Length > 1 ? n[1] : "")} {n[0]}".Trim();
                    break;
                case "TEL":
                    var types = string.Join(';', parameters);
                    var mobile = types.Contains("CELL") || types.Contains("MOBILE") || types.Contains("IPHONE");
                    var typed = types.Contains("TYPE=") || types is "HOME" or "WORK" or "VOICE" or "FAX" || mobile;
                    tels.Add((value.StartsWith("tel:", StringComparison.OrdinalIgnoreCase) ? value[4..] : value, mobile, typed));
                    break;
                case "END":
                    var display = string.IsNullOrWhiteSpace(formatted) ? name : formatted;
                    // The card's number: its mobile one, else its only untyped one; the rest are reported.
                    var chosen = tels.FirstOrDefault(t => t.Mobile);
                    if (chosen.Value is null && tels.Count > 0 && !tels[0].Typed) chosen = tels[0];
                    yield return new ContactRow(cardLine, chosen.Value ?? (tels.Count > 0 ? tels[0].Value : null), display);
                    break;
            }
        }
    }

    private static IEnumerable<(string Content, int Line)> Unfold(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var current = new StringBuilder();
        var start = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var l = lines[i];
            if (l.Length > 0 && (l[0] == ' ' || l[0] == '\t') && current.Length > 0)
            {
                current.Append(l, 1, l.Length - 1);
                continue;
            }
            // vCard 2.1 soft line breaks in QUOTED-PRINTABLE end with '='.
            if (current.Length > 0 && current[^1] == '=' && current.ToString().Contains("QUOTED-PRINTABLE", StringComparison.OrdinalIgnoreCase))
            {
                current.Length--;
                current.Append(l);
                continue;
            }
            if (current.Length > 0) yield return (current.ToString(), start);
            current.Clear().Append(l);
            start = i + 1;
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
