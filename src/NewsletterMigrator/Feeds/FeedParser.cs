using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Xml;

namespace NewsletterMigrator.Feeds;

/// <summary>
/// Turns a feed document into entries, whatever its format: the first character tells JSON from XML, the root
/// element tells RSS from Atom. Usable without HTTP (e.g. a preview of a pasted document).
/// </summary>
public static class FeedParser
{
    /// <summary><see cref="FetchResult.Fetched"/> with <paramref name="validators"/>, or <see cref="FetchResult.Failed"/> (Malformed, UnsupportedFormat).</summary>
    public static FetchResult Parse(ReadOnlyMemory<byte> body, Uri feedUrl, FeedValidators? validators = null)
    {
        validators ??= new FeedValidators(null, null);
        var start = FirstSignificant(body.Span);
        if (start < 0) return new FetchResult.Failed(FeedFetchError.Malformed, "The document is empty.");
        try
        {
            (IReadOnlyList<FeedEntry> Entries, string? Title)? feed;
            var first = (char)body.Span[start];
            if (first is (char)0xFF or (char)0xFE) first = '<';
            switch (first)
            {
                case '{':
                    feed = JsonFeedReader.Read(body[start..], feedUrl);
                    if (feed is null) return new FetchResult.Failed(FeedFetchError.UnsupportedFormat, "The JSON document is no JSON Feed (its \"version\" is not https://jsonfeed.org/version/1 or 1.1).");
                    break;
                case '<':
                    if (LooksLikeHtml(body.Span[start..]))
                        return new FetchResult.Failed(FeedFetchError.UnsupportedFormat, "The address serves an HTML page, not a feed (RSS 2.0, Atom 1.0 or JSON Feed).");
                    // From the first '<': a blank line before the XML declaration (a common CMS template slip) is no reason to fail.
                    using (var reader = XmlReader.Create(ReadOnlyStream(body[start..]), XmlFeedReader.SafeSettings(body.Length)))
                    {
                        feed = XmlFeedReader.Read(reader, feedUrl);
                        if (feed is null) return new FetchResult.Failed(FeedFetchError.UnsupportedFormat, $"The XML document is no RSS 2.0 or Atom 1.0 feed (its root element is <{reader.Name}>).");
                    }
                    break;
                default:
                    return new FetchResult.Failed(FeedFetchError.UnsupportedFormat, "The document is neither XML nor JSON.");
            }
            return new FetchResult.Fetched(feed.Value.Entries, validators, feed.Value.Title);
        }
        catch (XmlException ex) when (ex.Message.Contains("DTD", StringComparison.Ordinal))
        {
            return new FetchResult.Failed(FeedFetchError.Malformed, "The document declares a DTD, which is refused: DTDs carry the entity expansion and external entity attacks, and no feed needs one.");
        }
        catch (XmlException ex)
        {
            return new FetchResult.Failed(FeedFetchError.Malformed, $"The XML is not well-formed: {ex.Message}");
        }
        catch (JsonException ex)
        {
            return new FetchResult.Failed(FeedFetchError.Malformed, $"The JSON is not well-formed: {ex.Message}");
        }
        catch (NotSupportedException ex)
        {
            return new FetchResult.Failed(FeedFetchError.UnsupportedFormat, $"The feed uses a form that cannot be read: {ex.Message}");
        }
        catch (FormatException ex)
        {
            return new FetchResult.Failed(FeedFetchError.Malformed, $"The feed has a value that cannot be read: {ex.Message}");
        }
    }

    private static MemoryStream ReadOnlyStream(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Array is not null
            ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);

    /// <summary>Index of the first byte after a byte-order mark and whitespace; UTF-16 documents count as XML.</summary>
    private static int FirstSignificant(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("\uFEFF"u8)) return FirstNonSpace(body, 3);
        if (body.Length >= 2 && ((body[0] == 0xFF && body[1] == 0xFE) || (body[0] == 0xFE && body[1] == 0xFF)))
            return body.Length > 2 ? 0 : -1; // The XML reader reads the mark itself; such a document is XML or nothing.
        return FirstNonSpace(body, 0);
    }

    private static int FirstNonSpace(ReadOnlySpan<byte> body, int from)
    {
        for (var i = from; i < body.Length; i++)
        {
            if (body[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        }
        return -1;
    }

    private static bool LooksLikeHtml(ReadOnlySpan<byte> start)
    {
        var head = Encoding.ASCII.GetString(start[..Math.Min(start.Length, 64)]).TrimStart();
        return head.StartsWith("<!doctype html", StringComparison.OrdinalIgnoreCase) || head.StartsWith("<html", StringComparison.OrdinalIgnoreCase);
    }
}
