using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C45: a campaign's test mail goes only to staff accounts and the newsletter's test list, chosen on the
/// campaign page, and every test send is in the audit log with the recipients redacted.
/// </summary>
public sealed class TestSendTests
{
    private const string Subject = "Eilmeldung: Testlauf";
    private const string Admin = "redaktion@example.test";
    private const string Editor = "volontaer@example.test";
    private const string Listed = "Pruefung@Tagblatt.example.test";
    private const string Refusal = "Testmails gehen nur an Redaktionskonten und die in den Einstellungen hinterlegten Testadressen";

    [Fact]
    public async Task Test_mail_goes_to_admins_editors_and_listed_test_addresses_in_any_case_and_is_audited_redacted_C45()
    {
        await using var app = new AppFactory();
        var (staff, url) = await CampaignPageAsync(app);

        // Offered as a choice: both staff accounts and the listed address; the editor's own one is ticked.
        var page = await staff.GetStringAsync(url);
        Assert.Matches($"value=\"{Regex.Escape(Admin)}\"\\s+checked=\"checked\"", page);
        Assert.Contains($"value=\"{Editor}\"", page);
        Assert.DoesNotMatch($"value=\"{Regex.Escape(Editor)}\"\\s+checked", page);
        Assert.Contains("value=\"Pruefung@tagblatt.example.test\"", page);

        var response = await PostTestAsync(staff, url, page, Admin, Editor.ToUpperInvariant(), "pruefung@TAGBLATT.example.test");
        Assert.Contains("Testversand an 3 Adresse(n) eingeplant", await response.Content.ReadAsStringAsync());
        foreach (var address in new[] { Admin, Editor, Listed })
            Assert.StartsWith("[TEST]", (await app.Smtp.WaitForAsync(address, Subject)).Subject);

        var audit = await staff.GetStringAsync("/admin/privacy/audit");
        Assert.Contains("test-send", audit);
        Assert.Contains("p***@tagblatt.example.test", audit);
        Assert.Contains("v***@example.test", audit);
        Assert.DoesNotContain("ruefung@", audit, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("olontaer@", audit, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Test_mail_to_a_stranger_is_refused_with_a_message_and_queues_nothing_C45()
    {
        await using var app = new AppFactory();
        var (staff, url) = await CampaignPageAsync(app);
        var page = await staff.GetStringAsync(url);
        Assert.DoesNotContain("fremder@example.test", page);

        // One stranger among allowed addresses: nobody gets the test, and the editor is told why.
        var response = await PostTestAsync(staff, url, page, Admin, "fremder@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains(Refusal, html);
        Assert.Contains("fremder@example.test", html);
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.Test)));
        Assert.False(await app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "test-send")));

        // English too.
        var english = await PostTestAsync(staff, url, page, ["fremder@example.test"], language: "en");
        Assert.Contains("Test mails go only to staff accounts and the test addresses listed in the settings",
            WebUtility.HtmlDecode(await english.Content.ReadAsStringAsync()));
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.Test)));
    }

    [Fact]
    public async Task A_locked_staff_account_is_no_test_target_C45()
    {
        await using var app = new AppFactory();
        var (staff, url) = await CampaignPageAsync(app);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByEmailAsync(Editor))!, DateTimeOffset.MaxValue);
        }

        var page = await staff.GetStringAsync(url);
        Assert.DoesNotContain(Editor, page);
        var response = await PostTestAsync(staff, url, page, Editor);
        Assert.Contains(Refusal, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.Test)));
    }

    [Fact]
    public async Task A_deactivated_colleague_an_open_invitation_and_another_newsletter_s_editor_are_no_test_targets_C45()
    {
        await using var app = new AppFactory();
        var (staff, url) = await CampaignPageAsync(app);
        var other = await app.NewsletterAsync("andere");
        await app.StaffAsync("sport@example.test", "another long password", "Editor");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var directory = scope.ServiceProvider.GetRequiredService<StaffDirectory>();
            Assert.Equal(StaffChange.Done, await directory.ChangeAccessAsync(await app.UserIdAsync("sport@example.test"), "Editor", [other.Id], "test"));
        }
        Assert.Equal(HttpStatusCode.OK, (await staff.InviteAsync("neu@exmaple.test", "Editor")).StatusCode); // a typo, the invitation open
        Assert.Equal(HttpStatusCode.OK, (await staff.StaffActionAsync(await app.UserIdAsync(Editor), "Deactivate")).StatusCode);

        var page = await staff.GetStringAsync(url);
        Assert.Contains($"value=\"{Admin}\"", page);
        foreach (var address in new[] { Editor, "sport@example.test", "neu@exmaple.test" })
        {
            Assert.DoesNotContain(address, page);
            var forged = await PostTestAsync(staff, url, page, address);
            Assert.Contains(Refusal, WebUtility.HtmlDecode(await forged.Content.ReadAsStringAsync()));
        }
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.Test)));
        Assert.False(await app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "test-send")));
    }

    [Fact]
    public void The_test_list_is_one_address_a_line_normalized_once_each_and_names_what_is_not_an_address_C45()
    {
        var list = TestRecipients.Parse(" Pruefung@Tagblatt.Example.Test \r\n\r\nqa@agentur.example.test; pruefung@tagblatt.example.test\nkein Name\n");
        Assert.Equal(["Pruefung@tagblatt.example.test", "qa@agentur.example.test"], list.Addresses);
        Assert.Equal(["kein Name"], list.Invalid);
        Assert.False(list.IsValid);
        Assert.Equal("Pruefung@tagblatt.example.test\nqa@agentur.example.test", list.Text);
        Assert.True(TestRecipients.Parse("").IsValid);
        Assert.Empty(TestRecipients.Parse(null).Addresses);
    }

    /// <summary>An admin signed in, an editor account, a newsletter with one listed test address, and a draft.</summary>
    private static async Task<(HttpClient Staff, string Url)> CampaignPageAsync(AppFactory app)
    {
        var newsletter = await app.NewsletterAsync();
        await app.WithDbAsync(db => db.Newsletters.Where(n => n.Id == newsletter.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.TestRecipients, Listed + "\n")));
        await app.StaffAsync(Editor, "another long password", "Editor");
        var staff = await SendingEngineTests.StaffClientAsync(app);
        var id = await app.CampaignAsync(newsletter, Subject, start: false);
        return (staff, $"/admin/campaigns/{newsletter.Id}/edit/{id}");
    }

    /// <summary>Posts the ticked checkboxes as a browser does: one TestAddresses field per address.</summary>
    private static Task<HttpResponseMessage> PostTestAsync(HttpClient staff, string url, string page, string address, params string[] more) =>
        PostTestAsync(staff, url, page, [address, .. more], language: null);

    private static Task<HttpResponseMessage> PostTestAsync(HttpClient staff, string url, string page, string[] addresses, string? language)
    {
        var fields = addresses.Select(a => new KeyValuePair<string, string>("TestAddresses", a))
            .Append(new("__RequestVerificationToken", Html.AntiforgeryToken(page)));
        var request = new HttpRequestMessage(HttpMethod.Post, url + "?handler=Test") { Content = new FormUrlEncodedContent(fields) };
        if (language is not null) request.Headers.AcceptLanguage.ParseAdd(language);
        return staff.SendAsync(request);
    }
}
