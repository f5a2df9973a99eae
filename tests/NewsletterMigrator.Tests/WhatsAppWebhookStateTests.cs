using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14: what a status webhook tells about the reader, whether or not its message can be found: a marketing stop
/// (131050) is an objection by the recipient's number (C41), and a delivered or read invitation proves the reader is on
/// WhatsApp after all.
/// </summary>
public sealed class WhatsAppWebhookStateTests
{
    /// <summary>
    /// The failed status can overtake the worker's own record of the acceptance (its write waits for SQLite's lock), so
    /// its wamid matches no row yet; the reader's objection must not wait for a row.
    /// </summary>
    [Fact]
    public async Task A_marketing_stop_in_a_failed_status_whose_message_is_not_found_is_an_objection_by_the_recipient_C41()
    {
        await using var host = new WhatsAppHost();
        await host.NewsletterWithContactsAsync(2);

        await host.PostWebhookAsync(FakeGraphApi.FailedWebhook("wamid.HBgNnot-yet-recorded", WhatsAppHost.WaId(1), host.UnixNow, 131050));

        Assert.True(await host.SuppressedAsync(1));
        Assert.False(await host.SuppressedAsync(0));
        var objected = await host.WithDbAsync(db => db.Contacts.AsNoTracking().Where(c => c.ObjectedAtUtc != null).ToListAsync());
        Assert.Null(Assert.Single(objected).PhoneEncrypted);
        var audit = await host.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "objection"));
        Assert.Equal("whatsapp-webhook", audit.UserName);
    }

    [Theory]
    [InlineData("delivered")]
    [InlineData("read")]
    public async Task A_delivered_or_read_invitation_shows_a_contact_recorded_as_not_on_WhatsApp_is_on_WhatsApp_after_all(string status)
    {
        await using var host = new WhatsAppHost();
        await host.NewsletterWithContactsAsync(1);
        // Meta once answered 131026 (an old app, terms not accepted); the reader has updated WhatsApp since and is invited again.
        var contact = await host.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync());
        await host.WithDbAsync(db => db.Contacts.ExecuteUpdateAsync(u => u.SetProperty(c => c.NotOnWhatsAppAtUtc, host.Now)));
        host.Clock.Advance(TimeSpan.FromDays(2));
        await host.WithDbAsync(async db =>
        {
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = contact.Id, NewsletterId = contact.NewsletterId, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = host.Now, NextAttemptAtUtc = host.Now, RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });
        await host.WaitForAcceptedAsync(1);
        var wamid = (await host.MessagesAsync()).Single().Wamid!;

        // "sent" says nothing about the reader's app; "delivered" and "read" do.
        await host.PostWebhookAsync(FakeGraphApi.StatusWebhook(wamid, "sent", WhatsAppHost.WaId(0), host.UnixNow));
        Assert.NotNull(await host.WithDbAsync(db => db.Contacts.Select(c => c.NotOnWhatsAppAtUtc).SingleAsync()));
        await host.PostWebhookAsync(FakeGraphApi.StatusWebhook(wamid, status, WhatsAppHost.WaId(0), host.UnixNow));

        Assert.Null(await host.WithDbAsync(db => db.Contacts.Select(c => c.NotOnWhatsAppAtUtc).SingleAsync()));
        var list = await (await host.App.AdminAsync()).GetStringAsync($"/admin/contacts/{contact.NewsletterId}");
        Assert.DoesNotContain("nicht bei WhatsApp", list);
    }

    [Fact]
    public async Task A_delivered_status_older_than_the_not_on_WhatsApp_record_leaves_it()
    {
        await using var host = new WhatsAppHost();
        await host.NewsletterWithContactsAsync(1);
        var contact = await host.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync());
        await host.WithDbAsync(async db =>
        {
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = contact.Id, NewsletterId = contact.NewsletterId, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = host.Now, NextAttemptAtUtc = host.Now, RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });
        await host.WaitForAcceptedAsync(1);
        var wamid = (await host.MessagesAsync()).Single().Wamid!;
        var deliveredAt = host.UnixNow;
        // A later invitation met 131026 before this delivery's webhook, which Meta sent late, arrived.
        host.Clock.Advance(TimeSpan.FromDays(1));
        await host.WithDbAsync(db => db.Contacts.ExecuteUpdateAsync(u => u.SetProperty(c => c.NotOnWhatsAppAtUtc, host.Now)));

        await host.PostWebhookAsync(FakeGraphApi.StatusWebhook(wamid, "delivered", WhatsAppHost.WaId(0), deliveredAt));

        Assert.NotNull(await host.WithDbAsync(db => db.Contacts.Select(c => c.NotOnWhatsAppAtUtc).SingleAsync()));
    }
}

/// <summary>The accounts service in a scope of its own, as a request or a worker round would call it.</summary>
internal static class WhatsAppAccountSteps
{
    public static async Task<T> WithAccountsAsync<T>(this AppFactory app, Func<WhatsAppAccounts, Task<T>> call)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<WhatsAppAccounts>());
    }

    public static async Task WithAccountsAsync(this AppFactory app, Func<WhatsAppAccounts, Task> call)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await call(scope.ServiceProvider.GetRequiredService<WhatsAppAccounts>());
    }
}
