using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Pages.Join;

/// <summary>
/// The embed form's protection against cross-site requests (C32) without a cookie.
/// <para>
/// The embed page lives in the portal's &lt;iframe&gt;, so every cookie it would set is a third-party cookie: Safari
/// and Firefox block those, Chrome partitions or blocks them, so the cookie half of ASP.NET's antiforgery pair
/// (nm.af) would be missing on the POST and every reader's sign-up would fail. The page therefore sets no cookie and
/// checks two things instead:
/// </para>
/// <list type="number">
/// <item>The POST's <c>Origin</c> header is this app's own public origin (App:PublicBaseUrl), which is the origin of
/// the framed document and so of its form. This is what stops a forged cross-site POST: every current browser sends
/// Origin on a POST, and a page on another site cannot make it say ours. (The embed page's Referrer-Policy is
/// same-origin for this reason, see <see cref="SecurityHeaders.AllowFramingBy"/>.)</item>
/// <item>A hidden form token, Data-Protection-signed, bound to the newsletter and valid for <see cref="Lifetime"/>:
/// a POST must come from a form this server rendered for this newsletter recently, not from a form kept or built
/// elsewhere.</item>
/// </list>
/// <para>
/// The cookie pair protects a session; this form has none, so what cross-site protection must prevent here is that
/// other sites make their visitors' browsers post sign-ups (spreading DOI mails over many IPs). The Origin check
/// prevents that; a client that forges the header is not a victim's browser and meets the same per-IP and
/// per-address limits as on the general page (C31, C42).
/// </para>
/// </summary>
public sealed class EmbedForm(IDataProtectionProvider protection, IOptions<AppOptions> app)
{
    /// <summary>The hidden field's name.</summary>
    public const string FieldName = "EmbedToken";

    /// <summary>The Data Protection purpose: a token of another purpose (a cookie, an antiforgery token) never opens here.</summary>
    public const string Purpose = "NewsletterMigrator.EmbedForm.v1";

    /// <summary>Long enough to read an article before signing up; an older form is refused and comes back fresh.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(2);

    private readonly ITimeLimitedDataProtector _protector = protection.CreateProtector(Purpose).ToTimeLimitedDataProtector();
    private readonly string _origin = app.Value.BaseUri.GetLeftPart(UriPartial.Authority);

    /// <summary>This app's public origin, e.g. "https://newsletter.tagblatt.example": the only one the form's POST may come from.</summary>
    public string Origin => _origin;

    public string Issue(int newsletterId) => _protector.Protect(newsletterId.ToString(CultureInfo.InvariantCulture), Lifetime);

    public EmbedFormCheck Check(HttpRequest request, string? token, int newsletterId)
    {
        // A second Origin header, "null" (a sandboxed frame, a no-referrer policy) or none at all: not our form.
        if (!string.Equals(request.Headers.Origin.ToString(), _origin, StringComparison.OrdinalIgnoreCase)) return EmbedFormCheck.ForeignOrigin;
        if (string.IsNullOrEmpty(token)) return EmbedFormCheck.TokenInvalid;
        try
        {
            return _protector.Unprotect(token) == newsletterId.ToString(CultureInfo.InvariantCulture) ? EmbedFormCheck.Valid : EmbedFormCheck.TokenInvalid;
        }
        catch (CryptographicException)
        {
            // Forged, expired, cut off, or from another key ring: all the same to the reader, a form to send again.
            return EmbedFormCheck.TokenInvalid;
        }
    }
}

public enum EmbedFormCheck
{
    Valid,
    /// <summary>The POST did not come from a page of this app's public origin.</summary>
    ForeignOrigin,
    /// <summary>No token, a forged or expired one, or one for another newsletter.</summary>
    TokenInvalid,
}
