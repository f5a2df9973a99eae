using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Importing;

/// <summary>
/// The slow path of <see cref="PhoneNormalizer"/>: reads the written shapes of ONE number that are more than digits and
/// separators (Unicode spaces, Excel marks, tel: URIs, wa.me links, a label or note around the number) down to the text
/// libphonenumber gets. It never decides validity or type: that stays with libphonenumber.
/// </summary>
internal static partial class PhoneShapes
{
    /// <summary>The number text for libphonenumber in <paramref name="number"/>, or the reason the entry is unusable.</summary>
    public static string? Read(string raw, out string number)
    {
        number = "";
        var value = Clean(raw).Trim();
        value = WithoutExcelMarks(value);
        if (value.Length == 0) return InvalidReason.Empty;
        // Excel turns long numbers into 4,91602E+11: digits are lost, so never guess.
        if (ScientificNotation().IsMatch(value)) return InvalidReason.ScientificNotation;

        if (value.StartsWith("tel:", StringComparison.OrdinalIgnoreCase)) return ReadTelUri(value[4..], out number);
        var whatsApp = WaMeLink().Match(value);
        if (!whatsApp.Success) whatsApp = WhatsAppSendLink().Match(value);
        if (whatsApp.Success)
        {
            // wa.me and api.whatsapp.com carry the full international number without '+' (C27): a link that works
            // names the country, whatever the list's default region.
            number = "+" + whatsApp.Groups["digits"].Value;
            return null;
        }

        value = WithoutTrailingNotes(WithoutLeadingLabel(value));
        if (value.Length == 0) return InvalidReason.Unparseable;
        // No vanity-number conversion: a letter that is not a label or a note makes the entry invalid (libphonenumber
        // would read 0800-FLOWERS as 0800-3569377, and "0171 2345678x" as an extension).
        if (HasLetter(value)) return InvalidReason.Letters;
        number = value;
        return null;
    }

    /// <summary>
    /// Unicode spaces become ' ' and invisible format characters go: libphonenumber refuses a number with U+202F,
    /// U+2007, U+2009, U+200A, a tab, U+FEFF or a bidi mark (U+200E, U+202A… which WhatsApp and web pages put around
    /// numbers) inside it. Full-width forms and other decimal digits become ASCII, and dashes '-', so that the label,
    /// note and 00 rules below see one alphabet (libphonenumber itself reads full-width and Arabic-Indic digits).
    /// </summary>
    private static string Clean(string raw)
    {
        var builder = new StringBuilder(raw.Length);
        foreach (var c in raw)
        {
            if (c < '\u0080') builder.Append(c is '\t' or '\r' or '\n' ? ' ' : c);
            else if (char.IsWhiteSpace(c)) builder.Append(' ');
            else if (c is >= '\uff01' and <= '\uff5e') builder.Append((char)(c - 0xfee0));
            else
                switch (CharUnicodeInfo.GetUnicodeCategory(c))
                {
                    case UnicodeCategory.Format: break; // U+200B, U+2060, U+FEFF, soft hyphen U+00AD, bidi marks
                    case UnicodeCategory.DashPunctuation: builder.Append('-'); break;
                    case UnicodeCategory.DecimalDigitNumber: builder.Append((char)('0' + CharUnicodeInfo.GetDecimalDigitValue(c))); break;
                    default: builder.Append(c == '\u2212' ? '-' : c); break;
                }
        }
        return builder.ToString();
    }

    /// <summary>
    /// Excel's text apostrophe ('0171…, also with spaces around it) and its formula-as-text export ="0171 2345678",
    /// which keeps a leading zero in a CSV: both are how a spreadsheet says "this is text", not part of the number.
    /// </summary>
    private static string WithoutExcelMarks(string value)
    {
        if (value.StartsWith('\'')) value = value.TrimStart('\'').Trim();
        if (value.StartsWith('='))
        {
            value = value[1..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1].Trim();
        }
        return value;
    }

    /// <summary>
    /// RFC 3966: tel:number;param=value… A phone-context that is a global number (+49, +49-30) prefixes a local number:
    /// it says which country the number belongs to, whatever the list's default region. A domain context says nothing
    /// libphonenumber can use, so the default region decides. The extension (;ext=12) and other parameters are dropped:
    /// WhatsApp reaches the line itself, and a mobile number followed by an extension is still that mobile number (a
    /// PBX number with an extension is a fixed line and libphonenumber reports not_mobile for it anyway).
    /// </summary>
    private static string? ReadTelUri(string rest, out string number)
    {
        number = "";
        if (rest.StartsWith("//", StringComparison.Ordinal)) rest = rest[2..];
        var parts = rest.Split(';');
        var local = parts[0].Trim();
        if (local.Length == 0) return InvalidReason.Unparseable;
        if (HasLetter(local)) return InvalidReason.Letters;
        foreach (var parameter in parts.AsSpan(1))
        {
            var context = parameter.Trim();
            if (!context.StartsWith("phone-context=", StringComparison.OrdinalIgnoreCase)) continue;
            context = context["phone-context=".Length..].Trim();
            if (context.StartsWith('+') && !local.StartsWith('+') && !HasLetter(context)) local = context + " " + local;
        }
        number = local;
        return null;
    }

    /// <summary>
    /// A label before the number: words of letters (with . - / ' &amp; _ inside, or a bracketed word such as "(privat)"),
    /// each ended by ':' or whitespace — "mobil: ", "Tel.: ", "Handy ", "WhatsApp: ", "Mobil (privat): ". What follows is
    /// the number, and a letter in it still makes the entry invalid.
    /// A word that runs straight into the digits ("Mobil0171…", "Tel.0171…") is no label: the value is kept whole and
    /// its letters make it invalid.
    /// </summary>
    private static string WithoutLeadingLabel(string value)
    {
        var i = 0;
        var labelled = false;
        while (i < value.Length && (char.IsLetter(value[i]) || value[i] is '(' or '['))
        {
            if (value[i] is '(' or '[')
            {
                var close = value.IndexOf(value[i] == '(' ? ')' : ']', i);
                if (close < 0 || !HasLetter(value.AsSpan(i, close - i))) break; // "(0171) 2345678"
                i = close + 1;
            }
            else
                while (i < value.Length && (char.IsLetter(value[i]) || value[i] is '.' or '-' or '/' or '\'' or '&' or '_')) i++;
            if (i < value.Length && value[i] == ':') i++;
            else if (i == value.Length || value[i] != ' ') return value;
            while (i < value.Length && value[i] == ' ') i++;
            labelled = true;
        }
        return labelled ? value[i..] : value;
    }

    /// <summary>
    /// Notes in brackets after the number ("(privat)", "(nur abends)", "[home]"): a bracketed group at the end that
    /// holds a letter and has a digit before it. A bracketed group inside the digits is no note ("0171 (privat)
    /// 2345678" stays invalid), and a group without letters is left to libphonenumber.
    /// </summary>
    private static string WithoutTrailingNotes(string value)
    {
        while (value.Length > 0 && value[^1] is ')' or ']')
        {
            var open = value.LastIndexOf(value[^1] == ')' ? '(' : '[');
            if (open <= 0) break;
            var note = value.AsSpan(open);
            if (!HasLetter(note) || !value.AsSpan(0, open).ContainsAnyInRange('0', '9')) break;
            value = value[..open].TrimEnd();
        }
        return value;
    }

    private static bool HasLetter(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (char.IsLetter(c)) return true;
        return false;
    }

    [GeneratedRegex(@"^\d([.,]\d+)?[eE][+-]?\d+$")]
    private static partial Regex ScientificNotation();

    // https://wa.me/491712345678, wa.me/491712345678?text=Hallo (a '+' is tolerated: some people type it).
    [GeneratedRegex(@"^(?:https?://)?(?:www\.)?wa\.me/\+?(?<digits>[0-9]{4,20})/?(?:[?#].*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex WaMeLink();

    // https://api.whatsapp.com/send?phone=491712345678&text=…, …/send/?phone=…, whatsapp://send?phone=…
    [GeneratedRegex(@"^(?:(?:https?://)?(?:www\.|api\.|web\.)?whatsapp\.com/send/?|whatsapp://send/?)\?(?:[^#]*&)?phone=(?:\+|%2B)?(?<digits>[0-9]{4,20})(?:[&#].*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex WhatsAppSendLink();
}
