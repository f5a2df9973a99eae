using NewsletterMigrator.Common;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Item 7: the proof of consent in the admin area, printable and exportable (C7, BGH I ZR 164/09).</summary>
public sealed class ProofTests : IAsyncLifetime
{
    private const string Formula = "=HYPERLINK(\"http://evil.example\",\"x\")";
    private readonly AppFactory _app = new();


    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task An_admin_sees_each_subscribers_full_ledger_prints_it_and_exports_JSON_and_CSV_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        var subscriberId = await ConfirmedReaderAsync("reader@example.test");
        await _app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var admin = _app.ReaderClient();
        await admin.SignInAsync("admin@example.test", "long enough password");

        var list = await admin.GetStringAsync($"/admin/subscribers/{newsletter.Id}");
        Assert.Contains("reader@example.test", list);
        Assert.Contains($"/admin/subscribers/proof/{subscriberId}", Html.Links(list));

        var proof = await admin.GetStringAsync($"/admin/subscribers/proof/{subscriberId}");
        foreach (var entry in new[] { "Anmeldung über das Formular", "Bestätigungs-E-Mail eingereiht", "Bestätigungs-E-Mail vom Mailserver angenommen", "Anmeldung bestätigt (Double-Opt-in)" })
            Assert.Contains(entry, proof);
        var signUp = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        var text = await _app.WithDbAsync(db => db.ConsentTexts.SingleAsync(t => t.Id == signUp.ConsentTextId));
        Assert.Contains(text.Sha256, proof);
        Assert.Contains(text.Statement.Trim(), WebUtility.HtmlDecode(proof));
        Assert.Contains("Rechtsgrundlage", proof); // the Art. 13 block as shown
        var messageId = (await _app.WithDbAsync(db => db.ConsentEvents.FirstAsync(e => e.Kind == ConsentEventKind.DoiSent))).MessageId!;
        Assert.Contains(messageId, proof);
        // Print view: a print button (script from a file, CSP) and print styles that hide the navigation.
        Assert.Contains("id=\"print-proof\"", proof);
        Assert.Contains("/js/print.js", proof);
        Assert.Contains("@media print", await admin.GetStringAsync("/css/site.css"));

        // JSON: self-contained, with the consent text version written out.
        var json = await admin.GetAsync($"/admin/subscribers/proof/{subscriberId}?handler=Export&format=json");
        Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
        using var doc = JsonDocument.Parse(await json.Content.ReadAsStringAsync());
        var subscriber = doc.RootElement.GetProperty("subscribers").EnumerateArray().Single();
        Assert.Equal("reader@example.test", subscriber.GetProperty("email").GetString());
        var events = subscriber.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(["SignUp", "DoiQueued", "DoiSent", "Confirmed"], events.Select(e => e.GetProperty("kind").GetString()));
        var shown = events[0].GetProperty("consentText");
        Assert.Equal(text.Statement, shown.GetProperty("statement").GetString());
        Assert.Equal(text.PrivacyInformation, shown.GetProperty("privacyInformation").GetString());
        Assert.Equal(text.Sha256, shown.GetProperty("sha256Recorded").GetString());
        Assert.Equal(Formula, events[0].GetProperty("userAgent").GetString());

        // CSV of the whole newsletter: a formula a reader typed into their user agent is neutralised.
        var csvResponse = await admin.GetAsync($"/admin/subscribers/{newsletter.Id}?handler=Export&format=csv");
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType!.MediaType);
        var csv = Encoding.UTF8.GetString(await csvResponse.Content.ReadAsByteArrayAsync()).TrimStart('\uFEFF');
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("newsletter,subscriber_id,email,status", lines[0]);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\"", csv);
        Assert.DoesNotContain(",=HYPERLINK", csv);
        Assert.DoesNotContain(",\"=HYPERLINK", csv);
        Assert.Contains(text.Sha256, csv);

        // Exports of personal data are audited.
        Assert.Equal(2, await _app.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "proof-export")));
    }

    [Fact]
    public async Task An_editor_sees_counts_but_no_addresses_proofs_or_exports()
    {
        var newsletter = await _app.NewsletterAsync();
        var subscriberId = await ConfirmedReaderAsync("reader@example.test");
        await _app.StaffAsync("editor@example.test", "long enough password", Roles.Editor);
        var editor = _app.ReaderClient();
        await editor.SignInAsync("editor@example.test", "long enough password");

        var list = await editor.GetStringAsync($"/admin/subscribers/{newsletter.Id}");
        Assert.Matches("Bestätigt</dt>\\s*<dd class=\"col-sm-9\">1</dd>", list);
        Assert.DoesNotContain("reader@example.test", list);
        Assert.Contains("nur Administratoren", list);

        foreach (var path in new[] { $"/admin/subscribers/proof/{subscriberId}", $"/admin/subscribers/proof/{subscriberId}?handler=Export&format=csv",
                     $"/admin/subscribers/{newsletter.Id}?handler=Export&format=json" })
        {
            var response = await editor.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/denied", response.Headers.Location!.AbsolutePath);
        }
    }

    [Theory]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+49 160", "'+49 160")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("plain", "plain")]
    public void Csv_fields_are_quoted_and_formula_safe(string value, string expected) =>
        Assert.Equal(expected, SafeCsvWriter.Escape(value, ','));

    private async Task<Guid> ConfirmedReaderAsync(string email)
    {
        var reader = _app.ReaderClient();
        reader.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", Formula);
        await reader.SignUpAsync(email);
        var mail = await _app.Smtp.WaitForAsync(email, "bestätigen");
        var path = new Uri(Html.Links(mail.HtmlBody).First(l => l.Contains("/confirm/"))).AbsolutePath;
        await reader.PostFormAsync(path, await reader.GetStringAsync(path), []);
        await ConsentPageTests.WaitUntilAsync(() => _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.DoiSent)));
        return await _app.WithDbAsync(db => db.Subscribers.Where(s => s.Email == email).Select(s => s.Id).SingleAsync());
    }
}
