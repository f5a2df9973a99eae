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
    /// Reads the settings field or the command-line value. The caller saves <see cref="EmbedOriginList.Text"/> only
    /// when <see cref="EmbedOriginList.IsValid"/>, and names <see cref="EmbedOriginList.Invalid"/> otherwise.
    /// </summary>
    public static EmbedOriginList Parse(string? text)
    {
        var origins = new List<string>();
        var invalid = new List<string>();
        foreach (var entry in (text ?? "").Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (TryNormalize(entry, out var origin))
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
    /// loopback host, so a test portal on the same machine can frame the page; a real portal is https.
    /// </summary>
    public static bool TryNormalize(string entry, out string origin)
    {
        origin = "";
        // Anything after the authority (a path other than "/", a query, a fragment) is a mistake, not a narrower origin.
        if (entry.Contains('?') || entry.Contains('#') || entry.Contains('*') || entry.Contains('\'')) return false;
        if (!WebLink.TryParse(entry, out var uri) || uri.AbsolutePath != "/") return false;
        if (uri.Scheme == "http" && !IsLoopback(uri)) return false;
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
