using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Objections and withdrawals that reach staff (C41, C44): STOP in the contact list, a withdrawal recorded by address or number.</summary>
public sealed class ObjectionTests : IAsyncLifetime
{
    private const string Mailbox = "abmelden@tagblatt.example.test";
    private readonly AppFactory _app = new(settings: new() { ["Sending:UnsubscribeMailbox"] = Mailbox });

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<bool> SuppressedAsync(string e164)
    {
        var hmac = _app.Service<PhoneProtector>().Hmac(e164);
        return _app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Phone && s.Hash == hmac));
    }

    private async Task<ImportSummary> ImportAsync(Newsletter newsletter, string numbers)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(numbers));
        return await scope.ServiceProvider.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "wieder.txt", "test", TestImports.Basis);
    }

    [Fact]
    public async Task A_reader_objects_through_the_invitation_link_which_erases_and_blocks_the_number_C41()
    {
        var newsletter = await _app.NewsletterAsync();
        var link = (await _app.InvitationsAsync(newsletter, "0160 1111111")).Single();
        var reader = _app.ReaderClient();

        var page = await reader.GetStringAsync(link);
        Assert.Contains("Keine Nachrichten mehr", page);
        var objected = await reader.PostFormAsync($"{link}?handler=Object", page, new());
        var answer = await objected.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, objected.StatusCode);
        Assert.Contains("Ihre Nummer ist gelöscht", System.Net.WebUtility.HtmlDecode(answer));

        Assert.True(await SuppressedAsync("+491601111111"));
        var contact = await _app.WithDbAsync(db => db.Contacts.SingleAsync());
        Assert.NotNull(contact.ObjectedAtUtc);
        Assert.Null(contact.PhoneEncrypted);
        Assert.Equal(0, (await ImportAsync(newsletter, "0160 1111111")).Imported);
        // The link is dead now: it shows the general sign-up, and objecting again does nothing more.
        var again = await reader.GetStringAsync(link);
        Assert.DoesNotContain("Keine Nachrichten mehr", again);
        Assert.Equal(1, await _app.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == "objection")));
    }

    [Fact]
    public async Task Stop_received_in_the_contact_list_blocks_and_erases_the_number_which_leaves_queue_and_export_and_is_never_imported_again_C41_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        var anna = await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.DisplayName == "Anna Muster"));
        var admin = await _app.AdminAsync();

        var list = await admin.GetStringAsync($"/admin/contacts/{newsletter.Id}");
        Assert.Contains($"stop={anna.Id}", list);
        // One click opens the confirmation; nothing has happened yet.
        var confirm = await admin.GetStringAsync($"/admin/contacts/{newsletter.Id}?p=1&stop={anna.Id}");
        Assert.Contains("STOP von Anna Muster erfassen?", confirm);
        Assert.False(await SuppressedAsync("+491601111111"));

        // Without the antiforgery token the form is refused and changes nothing.
        var forged = await admin.PostAsync($"/admin/contacts/{newsletter.Id}?handler=Stop",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["contactId"] = anna.Id.ToString() }));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.False(await SuppressedAsync("+491601111111"));

        var done = await admin.PostFormAsync($"/admin/contacts/{newsletter.Id}?handler=Stop", confirm, new() { ["contactId"] = anna.Id.ToString(), ["p"] = "1" });
        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        var after = await admin.GetStringAsync(done.Headers.Location);
        Assert.Contains("STOP erfasst", after);
        Assert.Contains("Widerspruch (STOP)", after);
        Assert.DoesNotContain("Anna", after);
        Assert.DoesNotContain("+491601111111", WebUtility.HtmlDecode(after));

        var objected = await _app.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync(c => c.Id == anna.Id));
        Assert.NotNull(objected.ObjectedAtUtc);
        Assert.Null(objected.PhoneEncrypted);
        Assert.Null(objected.DisplayName);
        Assert.True(await SuppressedAsync("+491601111111"));
        var audit = await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "objection"));
        Assert.Equal("admin@example.test", audit.UserName);
        Assert.DoesNotContain("1111111", audit.Details);

        // The click-to-chat queue goes from Ben to the end: Anna is not offered again.
        var editor = await _app.EditorAsync();
        var queue = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("Ben Beispiel", queue);
        var next = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?After={await _app.WithDbAsync(db => db.Contacts.Where(c => c.Id != anna.Id).Select(c => c.Id).SingleAsync())}");
        Assert.Contains("id=\"queue-done\"", next);

        // The export has Ben only.
        var csv = await admin.GetStringAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        Assert.Equal(2, csv.TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.DoesNotContain("491601111111", csv);
        Assert.Contains("491712222222", csv);

        // A later list with the number, in this or another newsletter, does not bring it back (C18).
        var other = await _app.NewsletterAsync("zweiter");
        foreach (var target in new[] { newsletter, other })
        {
            var summary = await ImportAsync(target, "+49 160 1111111\n");
            Assert.Equal(0, summary.Imported);
            Assert.Equal(1, summary.Reasons[InvalidReason.Suppressed]);
        }
        Assert.Equal(2, await _app.WithDbAsync(db => db.Contacts.CountAsync()));
    }

    [Fact]
    public async Task A_number_put_on_the_suppression_list_after_its_import_is_offered_by_neither_queue_nor_export_C41_C18()
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", ("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        // A suppression row alone (as written before the contact was imported, or by another instance): the list only, the contact untouched.
        await using (var scope = _app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<NewsletterMigrator.Subscribers.SuppressionList>()
                .AddAsync(SuppressionKind.Phone, _app.Service<PhoneProtector>().Hmac("+491601111111"), "opt-out list", DateTime.UtcNow);

        var editor = await _app.EditorAsync();
        var queue = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}");
        Assert.Contains("Ben Beispiel", queue);
        Assert.DoesNotContain("Anna Muster", queue);
        var all = await editor.GetStringAsync($"/admin/invitations/{newsletter.Id}?Filter=All");
        Assert.Contains("Anna Muster", all);
        Assert.DoesNotContain("queue-send-form", all);
        Assert.DoesNotContain("+491601111111", WebUtility.HtmlDecode(all));

        var csv = await (await _app.AdminAsync()).GetStringAsync($"/admin/contacts/{newsletter.Id}/export.csv");
        Assert.DoesNotContain("Anna", csv);
        Assert.Contains("Ben Beispiel", csv);
    }

    [Fact]
    public async Task A_withdrawal_by_mail_ends_every_subscription_of_the_address_with_the_channel_in_the_ledger_C44()
    {
        const string address = "leserin@example.test";
        await _app.NewsletterAsync();
        await _app.NewsletterAsync("zweiter");
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", address);
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/zweiter", address);
        await _app.ConfirmedReaderAsync(_app.Smtp, "/n/eilmeldungen", "andere@example.test");
        var admin = await _app.AdminAsync();
        var page = await admin.GetStringAsync("/admin/withdrawals");

        // Bad input: a clear message, nothing changed.
        var refused = await admin.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = address, ["Channel"] = "fax" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("Es wurde nichts geändert", await refused.Content.ReadAsStringAsync());
        refused = await admin.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = "leserin@", ["Channel"] = "mail" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(3, await _app.WithDbAsync(db => db.Subscribers.CountAsync(s => s.Status == SubscriberStatus.Confirmed)));

        var response = await admin.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = " Leserin@Example.test ", ["Channel"] = "mail" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadAsStringAsync();
        Assert.Contains("2 Abonnement(s) beendet.", answer);
        Assert.Contains("keine Newsletter mehr", answer);

        var subscribers = await _app.WithDbAsync(db => db.Subscribers.AsNoTracking().ToListAsync());
        Assert.All(subscribers.Where(s => s.EmailKey == address), s => Assert.Equal(SubscriberStatus.Unsubscribed, s.Status));
        Assert.Equal(SubscriberStatus.Confirmed, subscribers.Single(s => s.EmailKey != address).Status);
        var withdrawn = await _app.WithDbAsync(db => db.ConsentEvents.Where(e => e.Kind == ConsentEventKind.Withdrawn).ToListAsync());
        Assert.Equal(2, withdrawn.Count);
        Assert.All(withdrawn, e => Assert.Equal("mail", e.Channel));
        var audit = await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "withdrawal"));
        Assert.DoesNotContain(address, audit.Details);
        Assert.Contains("via mail", audit.Details);
    }

    [Fact]
    public async Task A_withdrawal_by_phone_blocks_the_number_and_ends_the_subscription_it_led_to_C44_C41()
    {
        const string address = "leser@example.test";
        var newsletter = await _app.NewsletterAsync();
        var invitation = (await _app.InvitationsAsync(newsletter, "0171 5551234")).Single();
        await _app.ConfirmedReaderAsync(_app.Smtp, invitation, address);
        // Staff, not only admins: the editor who took the call records it (point 13).
        var admin = await _app.AdminAsync();
        var page = await admin.GetStringAsync("/admin/withdrawals");

        var response = await admin.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = "+49 171 555 12 34", ["Channel"] = "phone" });
        var answer = await response.Content.ReadAsStringAsync();
        Assert.Contains("1 Abonnement(s) beendet.", answer);
        Assert.Contains("Nummer gesperrt", answer);
        Assert.DoesNotContain(address, answer);

        Assert.Equal(SubscriberStatus.Unsubscribed, (await _app.WithDbAsync(db => db.Subscribers.SingleAsync())).Status);
        Assert.Equal("phone", (await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.Withdrawn))).Channel);
        Assert.NotNull((await _app.WithDbAsync(db => db.Contacts.SingleAsync())).ObjectedAtUtc);
        Assert.True(await SuppressedAsync("+491715551234"));
        Assert.Equal(0, (await ImportAsync(newsletter, "0171 5551234")).Imported);

        // Recorded twice: the answer says the number was already blocked.
        page = await admin.GetStringAsync("/admin/withdrawals");
        response = await admin.PostFormAsync("/admin/withdrawals", page, new() { ["Value"] = "01715551234", ["Channel"] = "letter" });
        Assert.Contains("bereits gesperrt", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_dashboard_names_the_unsubscribe_mailbox_that_someone_must_read_C44()
    {
        await _app.NewsletterAsync();
        var admin = await _app.AdminAsync();
        var dashboard = await admin.GetStringAsync("/admin");
        Assert.Contains(Mailbox, dashboard);
        Assert.Contains("Die App liest dieses Postfach nicht", dashboard);
        Assert.Contains("href=\"/admin/withdrawals\"", dashboard);

        // Editors see the warning, not the admin-only page.
        var editor = await _app.EditorAsync();
        var editorView = await editor.GetStringAsync("/admin");
        Assert.Contains("Die App liest dieses Postfach nicht", editorView);
        Assert.DoesNotContain("/admin/privacy", editorView);
    }
}
