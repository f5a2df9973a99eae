using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 9: every web address a staff member enters is an absolute http(s) URL; anything else is
/// refused with a message in the admin's language, and nothing is saved (the command line: see CommandLineTests).
/// </summary>
public sealed class WebLinkTests
{
    private static readonly string[] Refused =
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://tagblatt.example.test/datenschutz",
        "datenschutz",
        "/datenschutz",
        "//tagblatt.example.test/datenschutz",
        "tagblatt.example.test/datenschutz",
        "http:tagblatt.example.test",       // the parser would repair it to http://tagblatt.example.test/
        "https:/tagblatt.example.test",
        "https://",
        "https://tagblatt.example.test@evil.example/datenschutz", // names one site, opens another
        "https://tagblatt.example.test\\@evil.example",
        "https://tagblatt.example.test/daten schutz",
        "https://tagblatt.example.test/\tdatenschutz",
        "https://tagblatt.example.test/\r\nBcc: x",
        "https://exa mple.test",
        "https:// tagblatt.example.test",
        "https://" + new string('a', 2000) + ".example.test",
    ];

    private static readonly string[] Accepted =
    [
        "https://tagblatt.example.test/datenschutz",
        "http://tagblatt.example.test/datenschutz",
        "  https://tagblatt.example.test/datenschutz  ",
        "HTTPS://Tagblatt.Example.Test/Datenschutz?version=2026-11#abschnitt-3",
        "https://bücher.example.test/datenschutz-ü",
        "https://tagblatt.example.test:8443/datenschutz",
    ];

    public static TheoryData<string> RefusedValues => new(Refused);

    public static TheoryData<string> AcceptedValues => new(Accepted);

    [Theory]
    [MemberData(nameof(RefusedValues))]
    public void Anything_but_an_absolute_http_or_https_address_is_refused(string value) => Assert.False(WebLink.IsValid(value));

    [Theory]
    [MemberData(nameof(AcceptedValues))]
    public void An_absolute_http_or_https_address_is_accepted(string value) => Assert.True(WebLink.IsValid(value));

    [Fact]
    public async Task The_settings_page_refuses_each_bad_address_in_either_field_and_saves_nothing()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var path = $"/admin/newsletters/edit/{newsletter.Id}";
        var failures = new List<string>();
        foreach (var field in new[] { "Input.PrivacyNoticeUrl", "Input.ImpressumUrl" })
        {
            foreach (var value in Refused.Where(v => v.Length < 2000)) // the longest meets the field's own length limit
            {
                var page = await admin.GetStringAsync(path);
                var fields = SettingsForm(page);
                fields["Input.Name"] = "Geändert";
                fields[field] = value;
                var response = await admin.PostFormAsync(path, page, fields);
                var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
                if (response.StatusCode != HttpStatusCode.OK || !html.Contains("Bitte geben Sie eine vollständige Adresse mit https:// an."))
                    failures.Add($"{field} = {value}: {(int)response.StatusCode}, no message");
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        var stored = await app.WithDbAsync(db => db.Newsletters.SingleAsync());
        Assert.Equal(("Tagblatt Eilmeldungen", LegalIdentity.PrivacyUrl, ""), (stored.Name, stored.PrivacyNoticeUrl, stored.ImpressumUrl));

        // In English for an English-speaking admin.
        var englishPage = await admin.GetStringAsync(path);
        var english = SettingsForm(englishPage);
        english["Input.PrivacyNoticeUrl"] = "javascript:alert(1)";
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        english["__RequestVerificationToken"] = Html.AntiforgeryToken(englishPage);
        request.Content = new FormUrlEncodedContent(english);
        request.Headers.AcceptLanguage.ParseAdd("en");
        Assert.Contains("Please enter a full address starting with https://", WebUtility.HtmlDecode(await (await admin.SendAsync(request)).Content.ReadAsStringAsync()));

        // A good address is saved trimmed.
        var good = await admin.GetStringAsync(path);
        var goodFields = SettingsForm(good);
        goodFields["Input.ImpressumUrl"] = "  https://tagblatt.example.test/impressum ";
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync(path, good, goodFields)).StatusCode);
        Assert.Equal("https://tagblatt.example.test/impressum", await app.WithDbAsync(db => db.Newsletters.Select(n => n.ImpressumUrl).SingleAsync()));
    }

    private static Dictionary<string, string> SettingsForm(string page)
    {
        var fields = new Dictionary<string, string>();
        foreach (var name in new[] { "Input.Name", "Input.Slug", "Input.SenderName", "Input.SenderAddress", "Input.DefaultRegion", "Input.MigrationEndDate",
                     "Input.ControllerName", "Input.ControllerAddress", "Input.ControllerEmail", "Input.ImpressumUrl", "Input.PrivacyNoticeUrl", "Input.PrivacyNoticeVersion" })
            fields[name] = Html.InputValue(page, name) ?? "";
        foreach (var name in new[] { "Input.InvitationMessage", "Input.Impressum" })
            fields[name] = Html.TextAreaValue(page, name) ?? "";
        return fields;
    }
}
