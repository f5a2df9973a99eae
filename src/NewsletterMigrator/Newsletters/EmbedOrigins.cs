using System.Net;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// The portal origins allowed to frame a newsletter's embed page (<see cref="Data.Newsletter.EmbedOrigins"/>, issue 17).
/// Each becomes a source of the embed page's CSP <c>frame-ancestors</c>, so an entry must be a bare origin a browser
/// compares exactly: scheme, host and port, nothing else. A path would be ignored by browsers for frame-ancestors and
/// so give a false sense of restriction; a wildcard or a quoted keyword would widen the list beyond what the admin
/// typed; and only a value rebuilt from its parsed parts can never carry a ';' or a space into the header.
/// </summary>
public static class EmbedOrigins
{
    // One origin a line is what the settings page asks for; commas (the command line), semicolons and spaces
    // are forgiven because a pasted list looks like that.
    private static readonly char[] Separators = ['\r', '\n', ',', ';', ' ', '\t'];

    /// <summary>
    /// Reads the settings field or the command-line value, as typed. The caller saves <see cref="EmbedOriginList.Text"/>
    /// only when <see cref="EmbedOriginList.IsValid"/>, and names <see cref="EmbedOriginList.Invalid"/> otherwise.
    /// Plain http on a loopback host only outside Production: it is for a test portal on the developer's machine
    /// (the browser tests' portal is http://localhost:&lt;port&gt;); in Production no reader's browser would frame the
    /// page from there, and a plain-http frame ancestor is what the https-only rule exists to keep out.
    /// </summary>
    public static EmbedOriginList ParseInput(string? text, IHostEnvironment environment) =>
        Parse(text, allowHttpLoopback: !environment.IsProduction());

    /// <summary>Reads the stored field, which <see cref="ParseInput"/> checked when it was saved.</summary>
    public static EmbedOriginList Parse(string? text) => Parse(text, allowHttpLoopback: true);

    private static EmbedOriginList Parse(string? text, bool allowHttpLoopback)
    {
        var origins = new List<string>();
        var invalid = new List<string>();
        foreach (var entry in (text ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryNormalize(entry, allowHttpLoopback, out var origin))
            {
                if (!origins.Contains(origin, StringComparer.Ordinal)) origins.Add(origin);
            }
            else
            {
                invalid.Add(entry);
            }
        }
        return new EmbedOriginList(origins, invalid);
    }

    /// <summary>
    /// "https://www.Portal.example:443/" becomes "https://www.portal.example". Plain http is allowed only for a
    /// loopback host, and only with <paramref name="allowHttpLoopback"/> (outside Production), so a test portal on
    /// the same machine can frame the page; a real portal is https.
    /// </summary>
    public static bool TryNormalize(string entry, bool allowHttpLoopback, out string origin)
    {
        origin = "";
        // Anything after the authority (a path other than "/", a query, a fragment) is a mistake, not a narrower origin.
        if (entry.Contains('?') || entry.Contains('#') || entry.Contains('*') || entry.Contains('\'')) return false;
        if (!WebLink.TryParse(entry, out var uri) || uri.AbsolutePath != "/") return false;
        if (uri.Scheme == "http" && !(allowHttpLoopback && IsLoopback(uri))) return false;
        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost; // Host keeps the brackets of an IPv6 address
        origin = $"{uri.Scheme}://{host.ToLowerInvariant()}{(uri.IsDefaultPort ? "" : ":" + uri.Port)}";
        return true;
    }

    private static bool IsLoopback(Uri uri) =>
        uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}

/// <param name="Origins">Normalized (<see cref="EmbedOrigins.TryNormalize"/>), each one once.</param>
/// <param name="Invalid">The entries that are not an allowed origin, as typed.</param>
public sealed record EmbedOriginList(IReadOnlyList<string> Origins, IReadOnlyList<string> Invalid)
{
    public bool IsValid => Invalid.Count == 0;

    /// <summary>The field as it is stored: one normalized origin a line.</summary>
    public string Text => string.Join('\n', Origins);
}
