using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The admin's side of data requests (C14, C18) and the audit log: role Admin only, editors see counts.</summary>
public sealed class PrivacyAdminTests : IAsyncLifetime
{
    private const string Address = "leserin@example.test";
    private const string Password = "long enough password";
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpClient> StaffClientAsync(string email, string role)
    {
        await _app.StaffAsync(email, Password, role);
        var client = _app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await client.SignInAsync(email, Password)).StatusCode);
        return client;
    }

    [Fact]
    public async Task Editors_see_counts_but_not_the_subscriber_lookup_audit_or_retention_pages()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var editor = await StaffClientAsync("editor@example.test", Roles.Editor);

        var overview = await editor.GetStringAsync("/admin");
        Assert.Contains("<td>1</td>", overview);
        Assert.DoesNotContain(Address, overview);
        Assert.DoesNotContain("/admin/privacy", overview);
        foreach (var path in new[] { "/admin/privacy/subscribers?q=" + Address, "/admin/privacy/audit", "/admin/privacy/retention" })
        {
            var response = await editor.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/account/denied", response.Headers.Location!.AbsolutePath, StringComparison.OrdinalIgnoreCase);
        }
        Assert.Equal(newsletter.Id, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).NewsletterId);
    }

    [Fact]
    public async Task Admin_finds_by_exact_address_and_by_number_exports_and_erases_with_audit_C14_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0171 5551234")).Single();
        await _app.ConfirmedReaderAsync(_app.Smtp, invitation, Address);
        var other = (await _app.InvitationsAsync(newsletter, "0160 24 24 24 0")).Single(); // a contact without sign-up
        var admin = await StaffClientAsync("admin@example.test", Roles.Admin);

        // Exact address only: a prefix finds nothing.
        Assert.Contains("Nichts gefunden", await admin.GetStringAsync("/admin/privacy/subscribers?q=leserin@example"));
        var page = await admin.GetStringAsync("/admin/privacy/subscribers?q=" + Uri.EscapeDataString("LESERIN@example.test"));
        Assert.Contains(Address, page);
        Assert.Contains("Confirmed", page);
        Assert.Contains("SignUp", page); // the ledger

        // A STOP reply quotes the number in some shape; the number's subscriber is found through the contact.
        var byNumber = await admin.GetStringAsync("/admin/privacy/subscribers?q=" + Uri.EscapeDataString("+49 171 5551234"));
        Assert.Contains(Address, byNumber);
        Assert.Contains("Nur ein WhatsApp-Kontakt", await admin.GetStringAsync("/admin/privacy/subscribers?q=01602424240"));

        var subscriber = await _app.WithDbAsync(db => db.Subscribers.SingleAsync());
        var export = await admin.PostFormAsync($"/admin/privacy/subscribers?handler=Export&id={subscriber.Id}", page, []);
        using (var json = JsonDocument.Parse(await export.Content.ReadAsStringAsync()))
            Assert.Equal(Address, json.RootElement.GetProperty("subscriber").GetProperty("email").GetString());

        // Erasure without the tick changes nothing and says why.
        var refused = await admin.PostFormAsync($"/admin/privacy/subscribers?handler=Erase&id={subscriber.Id}", page, []);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Es wurde nichts gelöscht", await refused.Content.ReadAsStringAsync());
        Assert.True(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));

        var erased = await admin.PostFormAsync($"/admin/privacy/subscribers?handler=Erase&id={subscriber.Id}", page, new() { ["confirm"] = "true" });
        Assert.Contains("Gelöscht", await erased.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
        Assert.True(await _app.WithDbAsync(db => db.ConsentEvents.AnyAsync(e => e.Kind == ConsentEventKind.Erased && e.Channel == "admin")));
        Assert.Contains("Nichts gefunden", await admin.GetStringAsync("/admin/privacy/subscribers?q=" + Address));
        Assert.Empty(await _app.InvitationsAsync(newsletter, "+491715551234"));

        var audit = await admin.GetStringAsync("/admin/privacy/audit");
        Assert.Contains("export", audit);
        Assert.Contains("erase", audit);
        Assert.Contains("admin@example.test", audit);
        Assert.DoesNotContain(Address, audit);
        Assert.NotNull(other);
    }

    [Fact]
    public async Task Admin_suppresses_an_address_and_a_number_which_stops_mail_and_import_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", Address);
        var admin = await StaffClientAsync("admin@example.test", Roles.Admin);
        var page = await admin.GetStringAsync("/admin/privacy/subscribers");

        var bad = await admin.PostFormAsync("/admin/privacy/subscribers?handler=Suppress", page, new() { ["value"] = "kein Wert" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("nichts gesperrt", await bad.Content.ReadAsStringAsync());
        Assert.False(await _app.WithDbAsync(db => db.Suppressions.AnyAsync()));

        var ok = await admin.PostFormAsync("/admin/privacy/subscribers?handler=Suppress", page, new() { ["value"] = Address });
        Assert.Contains("Auf die Sperrliste gesetzt", await ok.Content.ReadAsStringAsync());
        Assert.Equal(SubscriberStatus.Unsubscribed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);

        await admin.PostFormAsync("/admin/privacy/subscribers?handler=Suppress", page, new() { ["value"] = "0151 23456789" });
        Assert.Empty(await _app.InvitationsAsync(newsletter, "+4915123456789"));
        Assert.Equal(2, await _app.WithDbAsync(db => db.Suppressions.CountAsync()));
        // The number is an objection like a STOP reply (C41), audited as such; the address a suppression.
        var audit = await _app.WithDbAsync(db => db.AuditEntries.Where(a => a.Action == "suppress" || a.Action == "objection").ToListAsync());
        Assert.Equal(2, audit.Count);
        Assert.DoesNotContain(audit, a => a.Details.Contains(Address) || a.Details.Contains("23456789"));
    }

    [Fact]
    public async Task Audit_log_is_paged_newest_first()
    {
        var admin = await StaffClientAsync("admin@example.test", Roles.Admin);
        for (var i = 0; i < 55; i++) await _app.NewsletterAsync($"ausgabe-{i}");
        var first = await admin.GetStringAsync("/admin/privacy/audit");
        Assert.Contains("created newsletter ausgabe-54", first);
        Assert.DoesNotContain("created newsletter ausgabe-0<", first);
        Assert.Contains("?p=2", first);
        var second = await admin.GetStringAsync("/admin/privacy/audit?p=2");
        Assert.Contains("created newsletter ausgabe-0<", second);
    }
}
