using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Shared;

/// <summary>
/// A newsletter's colour on the reader pages (issue 21): three CSS variables in one small style element, which the
/// page's CSP allows by its SHA-256 (<see cref="SecurityHeaders.AllowStyle"/>) instead of allowing inline styles at all.
/// No element for a newsletter without a colour: its pages keep the default blue from reader.css.
/// </summary>
public static class BrandStyle
{
    /// <summary>The style element's content, or null when the newsletter has no colour of its own.</summary>
    public static string? Css(Newsletter? newsletter)
    {
        if (newsletter is null || string.IsNullOrEmpty(newsletter.BrandColour)) return null;
        var colour = BrandColour.Of(newsletter.BrandColour);
        return $":root{{--brand:{colour.Hex};--brand-ink:{colour.OnColour};--brand-strong:{colour.OnWhite}}}";
    }
}
