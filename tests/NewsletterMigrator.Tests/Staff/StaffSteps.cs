using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>What an admin and an invitee do on the staff pages, through real HTTP.</summary>
public static partial class StaffSteps
{
    public const string Password = "long enough password";

    /// <summary>Posts a form with repeated fields (several newsletters), with the page's antiforgery token.</summary>
    public static Task<HttpResponseMessage> PostFieldsAsync(this HttpClient client, string url, string pageWithForm, params (string Name, string Value)[] fields) =>
        client.PostAsync(url, new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))
            .Append(KeyValuePair.Create("__RequestVerificationToken", Html.AntiforgeryToken(pageWithForm)))));

    public static async Task<HttpResponseMessage> InviteAsync(this HttpClient admin, string email, string role, string language = "de", params int[] newsletterIds)
    {
        var page = await admin.GetStringAsync("/admin/staff");
        return await admin.PostFieldsAsync("/admin/staff?handler=Invite", page,
            [("Email", email), ("Role", role), ("Language", language), .. newsletterIds.Select(id => ("NewsletterIds", id.ToString()))]);
    }

    /// <summary>The staff page's action on one colleague (Deactivate, Reactivate, ResetTwoFactor, Resend, Access).</summary>
    public static async Task<HttpResponseMessage> StaffActionAsync(this HttpClient admin, string userId, string handler, params (string Name, string Value)[] fields)
    {
        var page = await admin.GetStringAsync($"/admin/staff/{userId}");
        return await admin.PostFieldsAsync($"/admin/staff/{userId}?handler={handler}", page, fields);
    }

    public static Task<string> UserIdAsync(this AppFactory app, string email) =>
        app.WithDbAsync(db => db.Users.Where(u => u.NormalizedEmail == email.ToUpperInvariant()).Select(u => u.Id).SingleAsync());

    public static Task<StaffUser> UserAsync(this AppFactory app, string email) =>
        app.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.NormalizedEmail == email.ToUpperInvariant()));

    /// <summary>The path and query of the link to <paramref name="path"/> in a mail's text part.</summary>
    public static string LinkIn(MimeMessage mail, string path)
    {
        var match = Regex.Match(mail.TextBody ?? "", $@"https?://\S+?(/{Regex.Escape(path.TrimStart('/'))}\?\S+)");
        Assert.True(match.Success, $"no {path} link in: {mail.TextBody}");
        Assert.Contains(match.Value, (mail.HtmlBody ?? "").Replace("&amp;", "&"));
        return match.Groups[1].Value;
    }

    /// <summary>Opens the link and sets the password through its form.</summary>
    public static async Task<HttpResponseMessage> SetPasswordAsync(this HttpClient client, string link, string password, string? confirmation = null)
    {
        var page = await client.GetAsync(link);
        var html = await page.Content.ReadAsStringAsync();
        if (page.StatusCode != HttpStatusCode.OK) return page;
        return await client.PostFieldsAsync(link, html, ("Password", password), ("Confirmation", confirmation ?? password));
    }

    public static Task<List<string>> AuditAsync(this AppFactory app, string action = "staff") =>
        app.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == action).OrderBy(a => a.Id).Select(a => a.Details).ToListAsync());

    public static bool LandsOnLogin(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.OriginalString.Contains("/account/login");
}
