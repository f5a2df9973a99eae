using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Embed;

/// <summary>A reader's steps in the portal's frame: open the embed page, send its form as the framed document would.</summary>
public static class EmbedSteps
{
    public const string Portal = "https://www.portal.example";
    public const string MobilePortal = "https://m.portal.example";

    /// <summary>The embed page's origin: the app's public one, as the browser names it in the POST's Origin header.</summary>
    public static string PublicOrigin(this AppFactory app) => new Uri(app.Settings["App:PublicBaseUrl"]!).GetLeftPart(UriPartial.Authority);

    public static Task SetEmbedOriginsAsync(this AppFactory app, string slug, string origins) =>
        app.WithDbAsync(db => db.Newsletters.Where(n => n.Slug == slug).ExecuteUpdateAsync(u => u.SetProperty(n => n.EmbedOrigins, origins)));

    /// <summary>The form's fields as a reader fills them in, with the page's own signed token.</summary>
    public static Dictionary<string, string> EmbedForm(string page, string email, bool consent = true, bool age = true)
    {
        var fields = TestData.SignUpForm(page, email, consent, age);
        fields[Pages.Join.EmbedForm.FieldName] = Html.InputValue(page, Pages.Join.EmbedForm.FieldName)
                                                 ?? throw new InvalidOperationException("No embed form token in the page.");
        return fields;
    }

    /// <summary>POSTs the form with the given Origin header (null: none), as a browser posts the framed form.</summary>
    public static Task<HttpResponseMessage> PostEmbedAsync(this HttpClient client, string path, Dictionary<string, string> fields, string? origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields) };
        if (origin is not null) request.Headers.Add("Origin", origin);
        return client.SendAsync(request);
    }

    /// <summary>
    /// Opens the embed page (with <c>?lang=</c> when <paramref name="language"/> is given, from a browser asking for
    /// <paramref name="acceptLanguage"/>) and signs up from the app's own origin, as the framed form does.
    /// </summary>
    public static async Task<HttpResponseMessage> EmbedSignUpAsync(this AppFactory app, string email, string slug = "eilmeldungen", string? language = null,
        string? acceptLanguage = null)
    {
        var reader = app.ReaderClient(acceptLanguage);
        var path = $"/n/{slug}/embed" + (language is null ? "" : $"?lang={language}");
        var page = await reader.GetStringAsync(path);
        return await reader.PostEmbedAsync(path, EmbedForm(page, email), app.PublicOrigin());
    }
}
