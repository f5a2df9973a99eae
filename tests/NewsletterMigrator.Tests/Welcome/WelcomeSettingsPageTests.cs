using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Welcome;

/// <summary>Issue 21: the welcome's settings page (admins), its rules and its preview, as an admin uses them.</summary>
public sealed class WelcomeSettingsPageTests : IAsyncLifetime
{
    private const string Admin = "chefin@example.test";
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_admin_switches_the_welcome_on_with_German_text_required_previews_it_and_switching_on_again_starts_it_anew()
    {
        var newsletter = await _app.NewsletterAsync();
        var staff = await _app.SignedInAsync(Roles.Admin, Admin);
        var settings = await staff.GetStringAsync($"/admin/newsletters/edit/{newsletter.Id}");
        Assert.Contains($"href=\"/admin/newsletters/{newsletter.Id}/welcome\"", settings);
        var path = $"/admin/newsletters/{newsletter.Id}/welcome";
        var page = await staff.GetStringAsync(path);
        Assert.Contains("Ausgeschaltet.", page);

        // Switched on without German text, or with too many issues: refused with the reason, nothing saved.
        var refused = await (await staff.PostFormAsync(path, page, Form(enabled: true, markdown: "", markdownEn: WelcomeSteps.EnglishText)))
            .Content.ReadAsStringAsync();
        Assert.Contains("Bitte den deutschen Text eingeben", refused);
        refused = await (await staff.PostFormAsync(path, page, Form(enabled: true, markdown: WelcomeSteps.GermanText, latest: "6"))).Content.ReadAsStringAsync();
        Assert.Contains("eine Zahl von 0 bis 5", refused);
        var stored = await NewsletterAsync();
        Assert.Equal((false, null, ""), (stored.WelcomeEnabled, stored.WelcomeEnabledAtUtc, stored.WelcomeMarkdownEn));
        Assert.False(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Details.Contains("welcome"))));

        // Switched on: from now on, audited.
        var before = DateTime.UtcNow;
        var saved = await staff.PostFormAsync(path, page, Form(enabled: true, markdown: WelcomeSteps.GermanText.Replace("\n", "\r\n"), latest: "3"));
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        stored = await NewsletterAsync();
        Assert.True(stored.WelcomeEnabled);
        Assert.InRange(stored.WelcomeEnabledAtUtc!.Value, before.AddSeconds(-1), DateTime.UtcNow);
        Assert.Equal(WelcomeSteps.GermanText, stored.WelcomeMarkdown); // stored with LF
        Assert.Equal(3, stored.WelcomeLatestIssues);
        Assert.Equal(Admin, (await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Details.Contains("welcome mail switched on")))).UserName);
        page = await staff.GetStringAsync(path);
        Assert.Contains("Eingeschaltet seit", page);

        // The preview is the mail as sent, in each language (English readers get the German text while there is no English one).
        var previewDe = await staff.GetAsync($"{path}/preview/de");
        Assert.Contains("sandbox", previewDe.Headers.GetValues("Content-Security-Policy").Single());
        var htmlDe = await previewDe.Content.ReadAsStringAsync();
        Assert.Contains("<strong>das Wichtigste</strong>", htmlDe);
        Assert.DoesNotContain("<script", htmlDe);
        Assert.Contains("Newsletter abbestellen", htmlDe);
        var htmlEn = await staff.GetStringAsync($"{path}/preview/en");
        Assert.Contains("<strong>das Wichtigste</strong>", htmlEn);
        Assert.Contains("Unsubscribe from this newsletter", htmlEn);
        // Light and dark, as the campaign editor shows a campaign (issue 21: "Preview shows light and dark").
        Assert.Contains($"src=\"{path}/preview/de?scheme=dark\"", page);
        Assert.Contains("@media (prefers-color-scheme: dark)", htmlDe);
        var darkDe = await staff.GetStringAsync($"{path}/preview/de?scheme=dark");
        Assert.DoesNotContain("prefers-color-scheme", darkDe);
        Assert.Contains("@media all", darkDe);
        Assert.Contains("<strong>das Wichtigste</strong>", darkDe);

        // Editing the text keeps the start; switching off and on again starts it anew.
        var firstStart = stored.WelcomeEnabledAtUtc;
        await staff.PostFormAsync(path, page, Form(enabled: true, markdown: WelcomeSteps.GermanText, markdownEn: WelcomeSteps.EnglishText));
        stored = await NewsletterAsync();
        Assert.Equal((firstStart, WelcomeSteps.EnglishText), (stored.WelcomeEnabledAtUtc, stored.WelcomeMarkdownEn));
        Assert.Contains("<strong>the essentials</strong>", await staff.GetStringAsync($"{path}/preview/en"));
        await staff.PostFormAsync(path, page, Form(enabled: false, markdown: WelcomeSteps.GermanText));
        Assert.False((await NewsletterAsync()).WelcomeEnabled);
        await staff.PostFormAsync(path, page, Form(enabled: true, markdown: WelcomeSteps.GermanText));
        stored = await NewsletterAsync();
        Assert.True(stored.WelcomeEnabled);
        Assert.True(stored.WelcomeEnabledAtUtc > firstStart);
        Assert.Equal(["welcome mail switched on", "welcome mail edited", "welcome mail switched off", "welcome mail switched on"],
            (await _app.WithDbAsync(db => db.AuditEntries.Where(a => a.Details.StartsWith("welcome mail")).OrderBy(a => a.Id).Select(a => a.Details).ToListAsync()))
            .Select(d => d[..d.IndexOf(" for ")]));
    }

    private Task<Newsletter> NewsletterAsync() => _app.WithDbAsync(db => db.Newsletters.AsNoTracking().SingleAsync());

    private static Dictionary<string, string> Form(bool enabled, string markdown, string markdownEn = "", string latest = "0") => new()
    {
        ["Input.Enabled"] = enabled ? "true" : "false",
        ["Input.Subject"] = "",
        ["Input.SubjectEn"] = "",
        ["Input.Markdown"] = markdown,
        ["Input.MarkdownEn"] = markdownEn,
        ["Input.LatestIssues"] = latest,
    };
}
