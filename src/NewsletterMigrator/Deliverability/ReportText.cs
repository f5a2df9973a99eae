using System.Buffers;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// Reading the parts of a report mail as text, within bounds: a bounce mailbox also receives spam and mails of
/// many megabytes, and the classifier must stay well under a millisecond per mail (issue 16.5 asks for 200 mails/s
/// including IMAP). Everything here reads at most <see cref="MaxBytes"/> of a part and walks at most
/// <see cref="MaxParts"/> parts, and no regular expression can backtrack beyond a fixed window.
/// </summary>
internal static partial class ReportText
{
    /// <summary>Every report format puts what we read (the reason, the status fields, the returned headers) in its first few KB.</summary>
    public const int MaxBytes = 64 * 1024;
    private const int MaxParts = 64;
    private const int MaxDepth = 6;

    /// <summary>The parts of the mail's own structure, depth first, without descending into an attached message.</summary>
    public static IEnumerable<MimeEntity> Parts(MimeMessage message)
    {
        var count = 0;
        var stack = new Stack<(MimeEntity Entity, int Depth)>();
        if (message.Body is { } body) stack.Push((body, 0));
        while (stack.Count > 0 && count++ < MaxParts)
        {
            var (entity, depth) = stack.Pop();
            yield return entity;
            if (entity is Multipart multipart && depth < MaxDepth)
            {
                for (var i = multipart.Count - 1; i >= 0; i--) stack.Push((multipart[i], depth + 1));
            }
        }
    }

    public static bool Is(MimeEntity entity, string mediaType, string subtype) =>
        entity.ContentType.IsMimeType(mediaType, subtype);

    /// <summary>The decoded content of a leaf part, at most <see cref="MaxBytes"/> of it, in its charset (UTF-8 when it names none we know).</summary>
    public static string Read(MimePart part)
    {
        if (part.Content is null) return "";
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes);
        try
        {
            var length = 0;
            using (var stream = part.Content.Open())
            {
                int read;
                while (length < MaxBytes && (read = stream.Read(buffer, length, MaxBytes - length)) > 0) length += read;
            }
            return EncodingOf(part.ContentType.Charset).GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Encoding EncodingOf(string? charset)
    {
        if (string.IsNullOrWhiteSpace(charset)) return Encoding.UTF8;
        try
        {
            return Encoding.GetEncoding(charset.Trim());
        }
        catch (ArgumentException)
        {
            // Without the code-pages provider .NET knows only UTF-8/16, ASCII and Latin-1; windows-1252 and
            // ISO-8859-15 agree with Latin-1 on the German letters the word rules look for.
            return charset.Contains("1252") || charset.Contains("8859") ? Encoding.Latin1 : Encoding.UTF8;
        }
    }

    /// <summary>The text a person reads: the first text/plain part, else the first text/html with its tags dropped.</summary>
    public static string HumanText(MimeMessage message)
    {
        MimePart? html = null;
        foreach (var part in Parts(message))
        {
            if (part is not MimePart leaf || part.IsAttachment) continue;
            if (Is(leaf, "text", "plain")) return Read(leaf);
            if (html is null && Is(leaf, "text", "html")) html = leaf;
        }
        return html is null ? "" : WithoutTags(Read(html));
    }

    private static string WithoutTags(string html)
    {
        var withLines = LineBreakTag().Replace(html, "\n");
        return WebUtility.HtmlDecode(AnyTag().Replace(withLines, " "));
    }

    /// <summary>
    /// Header-like fields (RFC 822 syntax, as in message/delivery-status and message/feedback-report), in groups
    /// separated by blank lines; folded lines are joined. Names compare case-insensitively; the first occurrence
    /// of a name in a group wins. Lines that are no field are skipped, so a damaged report yields what it can.
    /// </summary>
    public static List<Dictionary<string, string>> FieldGroups(string text)
    {
        var groups = new List<Dictionary<string, string>>();
        Dictionary<string, string>? group = null;
        // Folded values grow in builders and become strings when their group ends: joining strings line by line
        // copied the whole value at every line, and 64 KB of one folded field took over a second (measured).
        var folded = new Dictionary<string, StringBuilder>(StringComparer.OrdinalIgnoreCase);
        string? lastName = null;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            if (rawLine.IsWhiteSpace())
            {
                EndGroup(group, folded);
                group = null;
                lastName = null;
                continue;
            }
            if (rawLine[0] is ' ' or '\t')
            {
                if (lastName is not null && folded.TryGetValue(lastName, out var value) && value.Length < MaxFieldLength)
                {
                    value.Append(' ').Append(rawLine.Trim());
                    if (value.Length > MaxFieldLength) value.Length = MaxFieldLength;
                }
                continue;
            }
            var colon = rawLine.IndexOf(':');
            if (colon <= 0) continue;
            var name = rawLine[..colon].Trim().ToString();
            if (group is null)
            {
                group = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                groups.Add(group);
            }
            var first = rawLine[(colon + 1)..].Trim();
            if (group.TryAdd(name, ""))
            {
                lastName = name;
                folded[name] = new StringBuilder().Append(first[..Math.Min(first.Length, MaxFieldLength)]);
            }
            else
            {
                lastName = null;
            }
        }
        EndGroup(group, folded);
        return groups;
    }

    /// <summary>Every field we read (a status, an address, a server's reply) fits in far less; a longer one is cut.</summary>
    private const int MaxFieldLength = 4 * 1024;

    private static void EndGroup(Dictionary<string, string>? group, Dictionary<string, StringBuilder> folded)
    {
        if (group is not null)
        {
            foreach (var (name, value) in folded) group[name] = value.ToString();
        }
        folded.Clear();
    }

    /// <summary>A field value such as "rfc822; user@example.test" or "&lt;user@example.test&gt;" as the bare address; null when it holds none.</summary>
    public static string? AddressIn(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var semicolon = value.IndexOf(';');
        return Addresses(semicolon >= 0 ? value[(semicolon + 1)..] : value).FirstOrDefault();
    }

    /// <summary>
    /// The addresses in a text, in order. Found from each '@' outwards by a plain scan, at most 64 characters back
    /// (RFC 5321's local-part limit) and 255 forward, so the cost is linear in the text whatever it holds: an address
    /// regular expression tries every letter as the start of a local part and took 10 ms on 64 KB of letters, and
    /// 600 ms on "a@a@a@…" even when run only around each '@' (measured).
    /// </summary>
    public static IEnumerable<string> Addresses(string text)
    {
        var from = 0;
        while (from < text.Length)
        {
            var at = text.IndexOf('@', from);
            if (at < 0) yield break;
            var start = at;
            while (start > 0 && at - start < 64 && IsLocalChar(text[start - 1])) start--;
            while (start < at && text[start] == '.') start++;
            var end = at + 1;
            while (end < text.Length && end - at <= 255 && IsDomainChar(text[end])) end++;
            while (end > at + 1 && text[end - 1] is '.' or '-') end--;
            if (start < at && IsDomain(text.AsSpan(at + 1, end - at - 1)))
            {
                yield return text[start..end];
                from = end;
            }
            else
            {
                from = at + 1;
            }
        }
    }

    // RFC 5322 atext without the quote, backquote and braces, which in running text are punctuation around an address.
    private static bool IsLocalChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '%' or '+' or '-' or '=' or '!' or '#' or '$' or '&' or '*' or '/' or '?' or '^' or '~';

    private static bool IsDomainChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '-';

    /// <summary>At least two labels of 1 to 63 characters, the last of letters only.</summary>
    private static bool IsDomain(ReadOnlySpan<char> domain)
    {
        var lastDot = domain.LastIndexOf('.');
        if (lastDot <= 0) return false;
        var top = domain[(lastDot + 1)..];
        if (top.Length is < 2 or > 63) return false;
        foreach (var c in top)
        {
            if (!char.IsAsciiLetter(c)) return false;
        }
        foreach (var label in domain.Split('.'))
        {
            if (label.End.Value - label.Start.Value is < 1 or > 63) return false;
        }
        return true;
    }

    /// <summary>A Message-ID as stored: without angle brackets and surrounding space; null when empty.</summary>
    public static string? BareMessageId(string? value)
    {
        var id = value?.Trim().Trim('<', '>').Trim();
        return string.IsNullOrEmpty(id) ? null : id;
    }

    /// <summary>Collapses runs of white space (a folded field, a wrapped reason line) and caps the length.</summary>
    public static string? OneLine(string? value, int maxLength = 500)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var line = Whitespace().Replace(value.Trim(), " ");
        return line.Length <= maxLength ? line : line[..maxLength];
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    // [^<>], not [^>]: on "<br <br <br …" each attempt stops at the next '<' instead of scanning 200 characters
    // ahead, which took 134 ms on 64 KB of them (measured).
    [GeneratedRegex(@"<\s{0,3}(?:br|/p|/div|/tr|/li|/h\d)\b[^<>]{0,200}>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LineBreakTag();

    [GeneratedRegex(@"<[^<>]{0,2000}>")]
    private static partial Regex AnyTag();
}
