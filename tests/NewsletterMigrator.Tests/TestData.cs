using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using System.Text;

namespace NewsletterMigrator.Tests;

/// <summary>Seeds through the app's own services, as an editor would through the UI.</summary>
public static class TestData
{
    public static async Task<Newsletter> NewsletterAsync(this AppFactory app, string slug = "eilmeldungen")
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = slug, Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@tagblatt.example.test",
            Impressum = "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt", PrivacyNoticeUrl = "https://tagblatt.example.test/datenschutz",
            // An import needs a migration end date ahead (C16); tests about a missing or passed one change it.
            MigrationEndsAtUtc = TestImports.MigrationEndUtc,
        }.Complete(), "test");
    }

    /// <summary>Imports the numbers and returns each new contact's invitation path (/i/…).</summary>
    public static async Task<List<string>> InvitationsAsync(this AppFactory app, Newsletter newsletter, params string[] numbers)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', numbers)));
        var summary = await importer.ImportAsync(newsletter.Id, file, "numbers.txt", "test", TestImports.Basis);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var links = scope.ServiceProvider.GetRequiredService<InvitationLinks>();
        return db.Contacts.Where(c => c.ImportBatchId == summary.BatchId).AsEnumerable()
            .Select(c => new Uri(links.InvitationUrl(c)).AbsolutePath).ToList();
    }

    /// <summary>
    /// An editor's import through the UI: upload, accept the detected mapping in the preview, wait for
    /// the background job. Returns the preview page and the finished report page.
    /// </summary>
    public static async Task<(string Preview, string Report, string BatchPath)> ImportThroughUiAsync(this HttpClient staff, int newsletterId,
        string fileName, byte[] content, string legalBasis = TestImports.LegalBasisText, string legalBasisKind = LegalBases.ExistingConsent)
    {
        var (preview, batchPath) = await StartImportThroughUiAsync(staff, newsletterId, fileName, content, legalBasis, legalBasisKind);
        return (preview, await WaitForImportAsync(staff, batchPath), batchPath);
    }

    /// <summary>Upload and start, as <see cref="ImportThroughUiAsync"/>, without waiting: returns the preview and the import's page.</summary>
    public static async Task<(string Preview, string BatchPath)> StartImportThroughUiAsync(this HttpClient staff, int newsletterId,
        string fileName, byte[] content, string legalBasis = TestImports.LegalBasisText, string legalBasisKind = LegalBases.ExistingConsent)
    {
        var importPage = await staff.GetStringAsync($"/admin/import/{newsletterId}");
        HttpResponseMessage response;
        using (var upload = new MultipartFormDataContent())
        {
            upload.Add(new StringContent(Html.AntiforgeryToken(importPage)), "__RequestVerificationToken");
            upload.Add(new StringContent(legalBasis), "LegalBasis");
            upload.Add(new StringContent(legalBasisKind), "LegalBasisKind");
            upload.Add(new ByteArrayContent(content), "Upload", fileName);
            response = await staff.PostAsync($"/admin/import/{newsletterId}", upload);
        }
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Upload answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var previewPath = response.Headers.Location!.OriginalString;
        var preview = await staff.GetStringAsync(previewPath);
        var fields = new Dictionary<string, string>();
        foreach (var name in new[] { "PhoneColumn", "NameColumn", "FirstNameColumn", "LastNameColumn" })
        {
            if (Html.SelectedValue(preview, name) is { } value) fields[name] = value;
        }
        if (preview.Contains("id=\"HasHeader\" name=\"HasHeader\" value=\"true\" checked")) fields["HasHeader"] = "true";
        response = await staff.PostFormAsync(previewPath, preview, fields);
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect)
            throw new InvalidOperationException($"Start answered {response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return (preview, response.Headers.Location!.OriginalString);
    }

    /// <summary>Polls the progress endpoint the page's script polls until the import has ended; returns the page.</summary>
    public static async Task<string> WaitForImportAsync(this HttpClient staff, string batchPath)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var progress = await staff.GetStringAsync(batchPath + "?handler=Progress");
            if (!progress.Contains("\"state\":\"running\"") && !progress.Contains("\"state\":\"queued\"")) return await staff.GetStringAsync(batchPath);
            await Task.Delay(100);
        }
        throw new TimeoutException("The import did not finish within 60 seconds.");
    }

    public static async Task StaffAsync(this AppFactory app, string email, string password, string role)
    {
        await using var scope = app.Services.CreateAsyncScope();
        // An editor sees only the newsletters assigned (issue 15): this one works on every newsletter there is so far.
        var newsletters = role == Roles.Editor ? await scope.ServiceProvider.GetRequiredService<AppDbContext>().Newsletters.Select(n => n.Id).ToListAsync() : [];
        var result = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync(email, password, role, "test", newsletters);
        if (!result.Succeeded) throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    public static async Task<HttpResponseMessage> PostFormAsync(this HttpClient client, string url, string pageWithForm, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = Html.AntiforgeryToken(pageWithForm);
        return await client.PostAsync(url, new FormUrlEncodedContent(fields));
    }

    public static async Task<HttpResponseMessage> SignInAsync(this HttpClient client, string email, string password)
    {
        var login = await client.GetStringAsync("/account/login");
        return await client.PostFormAsync("/account/login", login, new() { ["Email"] = email, ["Password"] = password });
    }

    public static Dictionary<string, string> SignUpForm(string page, string email, bool consent = true, bool age = true) => new()
    {
        ["Input.Email"] = email,
        ["Input.Consent"] = consent ? "true" : "false",
        ["Input.AgeConfirmed"] = age ? "true" : "false",
        ["Input.ConsentTextId"] = Html.InputValue(page, "Input.ConsentTextId") ?? "0",
    };

    /// <summary>Opens a sign-up page and submits it as a reader would.</summary>
    public static async Task<HttpResponseMessage> SignUpAsync(this HttpClient client, string email, string path = "/n/eilmeldungen",
        bool consent = true, bool age = true)
    {
        var page = await client.GetStringAsync(path);
        return await client.PostFormAsync(path, page, SignUpForm(page, email, consent, age));
    }
}
