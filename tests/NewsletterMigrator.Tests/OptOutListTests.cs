using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The old provider's opt-out list onto the suppression list, through the admin page (C18, C36).</summary>
public sealed class OptOutListTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<HttpResponseMessage> UploadAsync(HttpClient staff, int newsletterId, string fileName, string content)
    {
        var page = await staff.GetStringAsync($"/admin/suppress/{newsletterId}");
        using var upload = new MultipartFormDataContent();
        upload.Add(new StringContent(Html.AntiforgeryToken(page)), "__RequestVerificationToken");
        upload.Add(new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "Upload", fileName);
        return await staff.PostAsync($"/admin/suppress/{newsletterId}", upload);
    }

    private static string Field(string page, string id) =>
        System.Text.RegularExpressions.Regex.Match(page, $"id=\"{id}\">([^<]*)<").Groups[1].Value;

    [Fact]
    public async Task An_opt_out_list_suppresses_numbers_and_addresses_which_are_then_never_imported_invited_or_mailed_C36_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        // Already here before the list arrives: a contact not yet invited, and a confirmed reader.
        await _app.ImportAsync(newsletter, "alt.csv", ("0171 2222222", "Ben Beispiel"), ("0160 3333333", "Cem Beispiel"));
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", "Dora@Example.test");
        var admin = await _app.AdminAsync();

        const string list = "Telefon;E-Mail\r\n0160 1111111;\r\n+49 171 2222222;\r\n;dora@example.test\r\n0160 1111111;\r\nkeine Nummer;\r\n;kein@adresse\r\n0160 5555555;eva@example.test\r\n";
        var response = await UploadAsync(admin, newsletter.Id, "abmeldungen.csv", list);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal("7", Field(page, "optout-rows"));
        Assert.Equal("5", Field(page, "optout-suppressed")); // the last row suppresses its number and its address
        Assert.Equal("1", Field(page, "optout-already")); // the same number twice in the file
        Assert.Equal("2", Field(page, "optout-invalid"));
        Assert.Contains("<td>6</td><td>enthält Buchstaben</td>", page);
        Assert.Contains("<td>7</td><td>keine gültige E-Mail-Adresse</td>", page);

        // Only keyed hashes are stored.
        var suppressions = await _app.WithDbAsync(db => db.Suppressions.ToListAsync());
        Assert.Equal(3, suppressions.Count(s => s.Kind == SuppressionKind.Phone));
        Assert.Equal(2, suppressions.Count(s => s.Kind == SuppressionKind.Email));
        Assert.All(suppressions, s => Assert.Equal(32, s.Hash.Length));

        // The same list again: everything is already on the list.
        page = WebUtility.HtmlDecode(await (await UploadAsync(admin, newsletter.Id, "abmeldungen.csv", list)).Content.ReadAsStringAsync());
        Assert.Equal("0", Field(page, "optout-suppressed"));
        Assert.Equal("6", Field(page, "optout-already"));

        // A suppressed number is never imported.
        var batch = await _app.ImportAsync(newsletter, "neu.csv", ("0160 1111111", "Anna Beispiel"), ("0160 4444444", "Emil Beispiel"));
        var imported = await _app.WithDbAsync(db => db.ImportBatches.SingleAsync(b => b.Id == batch));
        Assert.Equal(1, imported.Imported);
        Assert.Equal(1, await _app.WithDbAsync(db => db.ImportIssues.CountAsync(i => i.ImportBatchId == batch && i.Reason == "suppressed")));

        // The contact imported before has objected: number and name are gone, so neither queue offers it.
        var ben = await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.ImportBatchId != batch && c.ObjectedAtUtc != null));
        Assert.Null(ben.PhoneEncrypted);
        Assert.Null(ben.DisplayName);
        var queue = WebUtility.HtmlDecode(await admin.GetStringAsync($"/admin/invitations/{newsletter.Id}?Import={ben.ImportBatchId}"));
        Assert.DoesNotContain("Ben Beispiel", queue);
        Assert.Contains("Cem Beispiel", queue);

        // The confirmed reader on the list is unsubscribed at once, recorded as a withdrawal by the admin: no more mail.
        var dora = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        Assert.Equal(SubscriberStatus.Unsubscribed, dora.Status);
        Assert.Contains(await _app.WithDbAsync(db => db.ConsentEvents.Where(e => e.SubscriberId == dora.Id).ToListAsync()),
            e => e.Kind == ConsentEventKind.Withdrawn && e.Channel == "admin");
        Assert.Contains("suppress-list", await _app.WithDbAsync(db => db.AuditEntries.Select(a => a.Action).ToListAsync()));
    }

    [Fact]
    public async Task A_damaged_opt_out_list_changes_nothing_and_editors_cannot_use_the_page_C36()
    {
        var newsletter = await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var response = await UploadAsync(admin, newsletter.Id, "liste.xlsx", "0160 1111111\n");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("beschädigt", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
        Assert.Equal(0, await _app.WithDbAsync(db => db.Suppressions.CountAsync()));

        var editor = await _app.EditorAsync();
        var refused = await editor.GetAsync($"/admin/suppress/{newsletter.Id}");
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
    }
}
