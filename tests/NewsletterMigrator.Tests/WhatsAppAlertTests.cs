using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, "pause and alert": a pause the app makes by itself may come while nobody looks at the dashboard, so every
/// admin gets a mail that says why and links the WhatsApp page; editors get none, and an admin's own pause sends none.
/// </summary>
public sealed class WhatsAppAlertTests
{
    [Fact]
    public async Task A_pause_the_app_makes_by_itself_mails_every_admin_and_no_editor()
    {
        await using var host = new WhatsAppHost();
        var newsletter = await host.NewsletterWithContactsAsync(2);
        await host.App.AdminAsync();
        await host.App.StaffAsync("zweite-admin@example.test", "long enough password", Staff.Roles.Admin);
        await host.App.EditorAsync();

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("PAUSED", reason: "LOW_QUALITY"));

        foreach (var admin in new[] { "admin@example.test", "zweite-admin@example.test" })
        {
            var mail = await host.App.Smtp.WaitForAsync(admin, "WhatsApp-Einladungen angehalten");
            Assert.Contains("Vorlage", mail.Subject);
            Assert.Contains("newsletter_umzug (de) PAUSED: LOW_QUALITY", mail.TextBody);
            Assert.Contains($"/admin/whatsapp/{newsletter.Id}", mail.TextBody);
            Assert.False(mail.Headers.Contains("List-Unsubscribe"));
        }
        await host.App.OutboxIdleAsync();
        Assert.DoesNotContain(host.App.Smtp.Messages, m => m.To.Mailboxes.Any(b => b.Address == "editor@example.test"));
    }

    [Fact]
    public async Task A_deactivated_admin_and_an_invited_admin_get_no_alert()
    {
        await using var host = new WhatsAppHost();
        await host.NewsletterWithContactsAsync(2);
        var admin = await host.App.AdminAsync();
        await host.App.StaffAsync("ehemalig@example.test", "long enough password", Staff.Roles.Admin);
        Assert.Equal(System.Net.HttpStatusCode.Redirect,
            (await admin.StaffActionAsync(await host.App.UserIdAsync("ehemalig@example.test"), "Deactivate")).StatusCode);
        await admin.InviteAsync("eingeladen@example.test", Staff.Roles.Admin);
        await host.App.Smtp.WaitForAsync("eingeladen@example.test", "Ihr Zugang");

        await host.PostWebhookAsync(FakeGraphApi.TemplateWebhook("PAUSED", reason: "LOW_QUALITY"));

        await host.App.Smtp.WaitForAsync("admin@example.test", "WhatsApp-Einladungen angehalten");
        await host.App.OutboxIdleAsync();
        Assert.DoesNotContain(host.App.Smtp.Messages, m => m.Subject?.Contains("WhatsApp") == true && !m.To.ToString().Contains("admin@example.test"));
        Assert.Equal(1, await host.WithDbAsync(db => db.OutboundMessages.CountAsync(m => m.Kind == MessageKind.WhatsAppPaused)));
    }

    [Fact]
    public async Task An_admins_own_pause_sends_no_alert()
    {
        await using var host = new WhatsAppHost();
        await host.NewsletterWithContactsAsync(1);
        await host.App.AdminAsync();

        await using (var scope = host.App.Services.CreateAsyncScope())
            Assert.True(await scope.ServiceProvider.GetRequiredService<WhatsAppAccounts>().PauseAsync(WhatsAppPause.Manual, "Wartung", "admin@example.test"));

        await host.App.OutboxIdleAsync();
        Assert.Empty(host.App.Smtp.Messages);
        Assert.Equal(0, await host.WithDbAsync(db => db.OutboundMessages.CountAsync()));
    }
}
