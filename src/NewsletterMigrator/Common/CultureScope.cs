using System.Globalization;

namespace NewsletterMigrator.Common;

/// <summary>Renders a mail in the reader's language from a background worker, then restores the culture.</summary>
public readonly struct CultureScope : IDisposable
{
    private readonly CultureInfo _previous;
    private readonly CultureInfo _previousUi;

    public CultureScope(string language)
    {
        _previous = CultureInfo.CurrentCulture;
        _previousUi = CultureInfo.CurrentUICulture;
        var culture = CultureInfo.GetCultureInfo(Languages.Normalize(language));
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = culture;
    }

    public void Dispose()
    {
        CultureInfo.CurrentCulture = _previous;
        CultureInfo.CurrentUICulture = _previousUi;
    }
}

public static class Languages
{
    public static readonly string[] Supported = ["de", "en"];

    public static string Normalize(string? language) =>
        language is not null && language.StartsWith("en", StringComparison.OrdinalIgnoreCase) ? "en" : "de";

    public static string Current => Normalize(CultureInfo.CurrentUICulture.Name);
}
