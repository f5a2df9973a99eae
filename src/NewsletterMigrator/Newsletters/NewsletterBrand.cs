using NewsletterMigrator.Common;

namespace NewsletterMigrator.Newsletters;

/// <summary>The checks of a newsletter's brand settings (issue 21), shared by the admin page and <c>update-newsletter</c>.</summary>
public static class NewsletterBrand
{
    public const int MaxFooterLength = 300;

    /// <summary>The colour as stored ("#rrggbb" lower case, or "" for the default); false when it is no colour.</summary>
    public static bool TryColour(string? input, out string stored)
    {
        stored = "";
        if (string.IsNullOrWhiteSpace(input)) return true;
        if (!BrandColour.TryParse(input, out var colour)) return false;
        stored = colour!.Hex;
        return true;
    }

    /// <summary>The footer line as stored (trimmed); false when it has a line break or is too long.</summary>
    public static bool TryFooter(string? input, out string stored)
    {
        stored = input?.Trim() ?? "";
        return stored.Length <= MaxFooterLength && stored.IndexOfAny(['\r', '\n']) < 0;
    }
}
