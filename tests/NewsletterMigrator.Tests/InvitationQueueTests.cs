using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The click-to-chat queue, the contact list's roles, the export, the sign-up QR code and the funnel.</summary>
public sealed class InvitationQueueTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static readonly (string, string)[] Readers =
    [
        ("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"), ("0152 33333333", "Clara Test"),
    ];

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string queuePage, int newsletterId, string contactId) =>
        await client.PostFormAsync($"/admin/invitations/{newsletterId}?handler=Send", queuePage, new()
        {
            ["contactId"] = contactId, ["Filter"] = "Open", ["Lang"] = "de",
        });

    private static string CurrentContactId(string page) =>
        System.Text.RegularExpressions.Regex.Match(page, "data-contact-id=\"([^\"]+)\"").Groups[1].Value;

    [Fact]
    public async Task The_queue_refuses_to_invite_without_a_migration_end_date()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", Readers);
        await _app.SetMigrationEndAsync(newsletter, null);
        var editor = await _app.EditorAsync();

        var page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("kein Ende der Migration festgelegt", page);
        Assert.DoesNotContain("queue-send-form", page);
        Assert.DoesNotContain("1111111", page);

        // A forged POST changes nothing either.
        var contactId = CurrentContactId(page);
        var response = await SendAsync(editor, page, newsletter.Id, contactId);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.DoesNotContain("wa.me", response.Headers.Location!.ToString());
        Assert.Equal(0, await _app.WithDbAsync(db => db.Contacts.CountAsync(c => c.InvitedAtUtc != null)));
    }

    [Fact]
    public async Task The_queue_shows_one_number_at_a_time_and_sends_each_contact_once_C27_C11()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", Readers);
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        var editor = await _app.EditorAsync();

        var page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("Kontakt 1 von 3", page);
        Assert.Contains("3 noch einzuladen", page);
        var first = Shown(page);
        Assert.Contains($"Hallo {first.Name.Split(' ')[0]}, hier schreibt", page);

        var firstId = CurrentContactId(page);
        var response = await SendAsync(editor, page, newsletter.Id, firstId);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var waMe = response.Headers.Location!.ToString();
        Assert.StartsWith($"https://wa.me/{first.E164.TrimStart('+')}?text=", waMe);
        var text = Uri.UnescapeDataString(waMe[(waMe.IndexOf("?text=") + 6)..]);
        Assert.StartsWith($"Hallo {first.Name.Split(' ')[0]}, ", text);
        var link = System.Text.RegularExpressions.Regex.Match(text, @"http://localhost/i/\S+").Value;
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync(new Uri(link).AbsolutePath)).StatusCode);
        Assert.NotNull(await _app.WithDbAsync(db => db.Contacts.Where(c => c.Id == Guid.Parse(firstId)).Select(c => c.InvitedAtUtc).SingleAsync()));

        // A second click (or a second editor) opens no second message.
        var again = await SendAsync(editor, page, newsletter.Id, firstId);
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.StartsWith("/admin/invitations/", again.Headers.Location!.ToString());
        Assert.Contains("bereits eingeladen", await editor.GetStringAsync(again.Headers.Location));
        Assert.Equal(1, await _app.WithDbAsync(db => db.Contacts.CountAsync(c => c.InvitedAtUtc != null)));

        // The queue moves on to another contact; the first number is gone from the page.
        page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?After={firstId}");
        Assert.Contains("Kontakt 2 von 3", page);
        Assert.Contains("2 noch einzuladen", page);
        var second = Shown(page);
        Assert.NotEqual(first, second);

        // Skip leads to the third; after it the queue is done.
        var skip = Html.Links(page).Single(l => l.Contains("After=") && l.Contains("/admin/invitations/"));
        page = await editor.GetStringAsync(skip);
        Assert.Contains("Kontakt 3 von 3", page);
        var third = Shown(page);
        Assert.DoesNotContain(third, new[] { first, second });
        page = await editor.GetStringAsync(Html.Links(page).Single(l => l.Contains("After=") && l.Contains("/admin/invitations/")));
        Assert.Contains("Keine weiteren Kontakte", page);

        // The "invited" filter shows the first contact without a number and without a send button.
        page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Filter=Invited");
        Assert.Contains(first.Name, page);
        Assert.DoesNotContain("queue-send-form", page);
        Assert.DoesNotContain(first.E164[^7..], page);
    }

    /// <summary>Exactly one contact's name and number are on the page.</summary>
    private static (string Name, string E164) Shown(string html)
    {
        var page = System.Net.WebUtility.HtmlDecode(html);
        var shown = Numbers.Where(r => page.Contains(r.Name)).ToList();
        Assert.Single(shown);
        Assert.Contains(shown[0].E164, page);
        foreach (var other in Numbers.Where(r => r != shown[0])) Assert.DoesNotContain(other.E164[^7..], page);
        return shown[0];
    }

    private static readonly (string Name, string E164)[] Numbers =
        [("Anna Muster", "+491601111111"), ("Ben Beispiel", "+491712222222"), ("Clara Test", "+4915233333333")];

    [Fact]
    public async Task The_queue_filters_by_import_and_uses_the_english_template()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "alt.csv", Readers[0]);
        var second = await _app.ImportAsync(newsletter, "neu.csv", Readers[1]);
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        await _app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.InvitationMessageEn, "Hi {name}, sign up here: {link}")));
        var editor = await _app.EditorAsync();

        var page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Import={second}&Lang=en");
        Assert.Contains("Kontakt 1 von 1", page);
        Assert.Contains("Ben Beispiel", page);
        Assert.DoesNotContain("Anna", page);
        Assert.Contains("Hi Ben, sign up here: http://localhost/i/", page);
        // The preview states the final length of exactly this message.
        var message = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(page, "<pre[^>]*id=\"queue-message\">([^<]*)</pre>").Groups[1].Value);
        Assert.Contains($"({message.Length} Zeichen)", page);
    }

    [Fact]
    public async Task The_settings_show_each_template_with_its_final_length_and_the_once_only_guidance_C11()
    {
        var newsletter = await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var page = await admin.GetStringAsync($"/admin/newsletters/edit/{newsletter.Id}");
        Assert.Contains("genau eine neutrale Einladung", page);
        // Final length: "Anna" for {name} and a personal link, always 43 token characters, for {link}.
        var expected = NewsletterMigrator.Newsletters.NewsletterService.DefaultInvitation
            .Replace("{name}", "Anna").Replace("{sender}", "Tagblatt Eilmeldungen (Tagblatt Verlag GmbH)")
            .Replace("{privacy}", LegalIdentity.PrivacyUrl).Replace("{link}", "http://localhost/i/" + new string('x', 43)).Length;
        Assert.Contains($"{expected} Zeichen", page);

        var form = new Dictionary<string, string>
        {
            ["Input.Name"] = newsletter.Name, ["Input.Slug"] = newsletter.Slug, ["Input.SenderName"] = newsletter.SenderName,
            ["Input.SenderAddress"] = newsletter.SenderAddress, ["Input.DefaultRegion"] = "DE",
            ["Input.InvitationMessage"] = NewsletterMigrator.Newsletters.NewsletterService.DefaultInvitation,
            ["Input.InvitationMessageEn"] = "Hi {name}, no link here",
            // The form shows the end date; a browser sends it back (removing it is refused, C16).
            ["Input.MigrationEndDate"] = Html.InputValue(page, "Input.MigrationEndDate") ?? "",
        };
        var refused = await admin.PostFormAsync($"/admin/newsletters/edit/{newsletter.Id}", page, form);
        Assert.Contains("{link}", System.Net.WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal("", await _app.WithDbAsync(db => db.Newsletters.Select(n => n.InvitationMessageEn).SingleAsync()));

        form["Input.InvitationMessageEn"] = "Hi {name}, sign up by email: {link}";
        var saved = await admin.PostFormAsync($"/admin/newsletters/edit/{newsletter.Id}", page, form);
        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        Assert.Equal("Hi {name}, sign up by email: {link}", await _app.WithDbAsync(db => db.Newsletters.Select(n => n.InvitationMessageEn).SingleAsync()));
    }

    [Fact]
    public async Task Invitation_links_stop_working_after_the_migration_end_date()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", Readers[0]);
        await _app.SetMigrationEndAsync(newsletter, DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-2)));
        var editor = await _app.EditorAsync();
        var page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("Das Ende der Migration (Einstellung „Ende der Migration“) ist überschritten", System.Net.WebUtility.HtmlDecode(page));
        Assert.DoesNotContain("queue-send-form", page);

        var path = await _app.WithDbAsync(async db =>
            new Uri(_app.Service<NewsletterMigrator.Inviting.InvitationLinks>().InvitationUrl(await db.Contacts.SingleAsync())).AbsolutePath);
        var reader = _app.CreateClient();
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone)");
        var html = await reader.GetStringAsync(path);
        Assert.Contains("Ihre E-Mail-Adresse", html);
        Assert.DoesNotContain("Anna", html);
        await _app.Service<NewsletterMigrator.Inviting.InvitationOpens>().FlushAsync(); // opens are written off the request (InvitationOpens)
        Assert.Null(await _app.WithDbAsync(db => db.Contacts.Select(c => c.OpenedAtUtc).SingleAsync()));
    }

    [Fact]
    public async Task Editors_see_no_numbers_in_the_contact_list_admins_do()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", Readers);
        var editorList = await (await _app.EditorAsync()).GetStringAsync($"/admin/contacts/{newsletter.Id}");
        Assert.Contains("Anna Muster", editorList);
        Assert.DoesNotContain("1111111", editorList);
        Assert.DoesNotContain("wa.me", editorList);
        Assert.DoesNotContain("export.csv", editorList);

        var adminList = await (await _app.AdminAsync()).GetStringAsync($"/admin/contacts/{newsletter.Id}");
        Assert.Contains("+491601111111", System.Net.WebUtility.HtmlDecode(adminList));
        Assert.Contains("https://wa.me/491601111111?text=", adminList);
    }

    [Fact]
    public async Task The_export_carries_the_links_is_formula_safe_audited_and_for_admins_only()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "=HYPERLINK(\"http://evil.example\")"), ("0171 2222222", "Ben Beispiel"));

        var editor = await _app.EditorAsync();
        var refused = await editor.GetAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/account/denied", refused.Headers.Location!.AbsolutePath);
        Assert.False(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "export")));

        var admin = await _app.AdminAsync();
        var response = await admin.GetAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var csv = await response.Content.ReadAsStringAsync();
        var lines = csv.TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("\"Name\";\"Nummer\"", lines[0]);
        var evil = lines.Single(l => l.Contains("HYPERLINK"));
        Assert.StartsWith("\"'=HYPERLINK(\"\"http://evil.example\"\")\"", evil);
        Assert.Contains("\"'+491601111111\"", evil); // a leading + is neutralised too
        Assert.Contains("\"http://localhost/i/", evil);
        Assert.Contains("\"https://wa.me/491601111111?text=", evil);
        var audit = await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "export"));
        Assert.Equal("admin@example.test", audit.UserName);
        Assert.Contains("2 contacts", audit.Details);
    }

    [Theory]
    [InlineData("=1+2", "'=1+2")]
    [InlineData("+49160", "'+49160")]
    [InlineData("-5", "'-5")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "'\rcmd")]
    [InlineData("Anna = Muster", "Anna = Muster")]
    [InlineData("", "")]
    public void Csv_values_that_a_spreadsheet_would_run_get_an_apostrophe(string value, string expected) =>
        Assert.Equal(expected, SafeCsvWriter.Neutralize(value));

    [Fact]
    public async Task The_general_sign_up_link_comes_as_png_and_svg_qr_code()
    {
        var newsletter = await _app.NewsletterAsync();
        var editor = await _app.EditorAsync();
        var page = await editor.GetStringAsync($"/admin/signup/{newsletter.Id}");
        Assert.Contains("http://localhost/n/eilmeldungen", page);

        var png = await editor.GetAsync($"/admin/signup/{newsletter.Id}/qr.png");
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);
        var bytes = await png.Content.ReadAsByteArrayAsync();
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        var svg = await editor.GetAsync($"/admin/signup/{newsletter.Id}/qr.svg");
        Assert.Equal("image/svg+xml", svg.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<svg", await svg.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await editor.GetAsync($"/admin/signup/{newsletter.Id}/qr.gif")).StatusCode);

        var anonymous = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync($"/admin/signup/{newsletter.Id}/qr.png")).StatusCode);
    }

    [Fact]
    public async Task The_funnel_counts_each_step_per_import_and_in_total()
    {
        var newsletter = await _app.NewsletterAsync();
        var first = await _app.ImportAsync(newsletter, "alt.csv", Readers[0], Readers[1]);
        await _app.ImportAsync(newsletter, "neu.csv", Readers[2]);
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        var editor = await _app.EditorAsync();

        // Anna is invited through the queue and opens her link; a preview fetcher does not count (C35).
        var page = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Import={first}");
        var waMe = (await SendAsync(editor, page, newsletter.Id, CurrentContactId(page))).Headers.Location!.ToString();
        var text = Uri.UnescapeDataString(waMe[(waMe.IndexOf("?text=") + 6)..]);
        var path = new Uri(System.Text.RegularExpressions.Regex.Match(text, @"http://localhost/i/\S+").Value).AbsolutePath;
        var preview = _app.CreateClient();
        preview.DefaultRequestHeaders.UserAgent.ParseAdd("facebookexternalhit/1.1");
        await preview.GetStringAsync(path);
        var reader = _app.CreateClient();
        reader.DefaultRequestHeaders.UserAgent.ParseAdd("Mozilla/5.0 (iPhone)");
        await reader.GetStringAsync(path);
        await reader.GetStringAsync(path); // counted once

        var funnel = await editor.GetStringAsync($"/admin/funnel/{newsletter.Id}");
        var chart = System.Net.WebUtility.HtmlDecode(System.Text.RegularExpressions.Regex.Match(funnel, "data-funnel=\"([^\"]+)\"").Groups[1].Value);
        using var json = JsonDocument.Parse(chart);
        var sets = json.RootElement.GetProperty("datasets").EnumerateArray()
            .ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()).ToArray());
        Assert.Equal([3, 1, 1, 0, 0, 0], sets["Alle Importe"]);
        Assert.Equal([2, 1, 1, 0, 0, 0], sets[$"#{first} alt.csv"]);
        Assert.Equal([1, 0, 0, 0, 0, 0], sets.Single(s => s.Key.EndsWith("neu.csv")).Value);
        Assert.Equal(6, json.RootElement.GetProperty("labels").GetArrayLength());
        // Rates between the steps as numbers: 1 of 3 invited, 1 of 1 opened.
        Assert.Contains("33", funnel);
        Assert.Contains("100", funnel);
        Assert.Contains("funnel-chart.js", funnel);
        Assert.DoesNotContain("1111111", funnel);
    }
}
