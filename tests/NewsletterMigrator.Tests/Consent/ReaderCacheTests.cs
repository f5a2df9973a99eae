using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The reader pages take the newsletter from memory (issue 17). An edit in this process shows at once; a change the cache
/// cannot see (another instance, here a direct UPDATE) shows within its lifetime, and never lets a newsletter that is no
/// longer open take a sign-up (C38).
/// </summary>
public sealed class ReaderCacheTests
{
    [Fact]
    public async Task A_newsletter_that_became_not_open_elsewhere_takes_no_sign_up_while_its_page_is_still_cached_C38()
    {
        await using var app = new AppFactory(kestrel: true, settings: new()
        {
            ["Consent:ReaderCacheLifetime"] = "01:00:00",
            ["Consent:SignUpMinimumDuration"] = "00:00:00.010",
        });
        app.StartServer();
        await app.NewsletterAsync();
        var reader = app.Reader();
        var page = await reader.GetStringAsync("/n/eilmeldungen");

        // Another instance empties the controller's address: this process's cache does not hear of it.
        await app.WithDbAsync(db => db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.ControllerAddress, "")));
        Assert.Contains("Input.Email", await app.Reader().GetStringAsync("/n/eilmeldungen")); // still the cached, open page

        var response = await reader.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, "late@example.test"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("Bitte sehen Sie in Ihr Postfach", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, await app.WithDbAsync(db => db.Subscribers.CountAsync()));
        Assert.Equal(0, await app.WithDbAsync(db => db.OutboundMessages.CountAsync()));
    }

    [Fact]
    public async Task An_edit_saved_in_this_process_shows_on_the_next_page_despite_the_cache()
    {
        await using var app = new AppFactory(kestrel: true, settings: new() { ["Consent:ReaderCacheLifetime"] = "01:00:00" });
        app.StartServer();
        await app.NewsletterAsync();
        Assert.DoesNotContain("Dr. Datenschutz", await app.Reader().GetStringAsync("/n/eilmeldungen"));

        await app.WithDbAsync(async db =>
        {
            var newsletter = await db.Newsletters.SingleAsync();
            newsletter.DataProtectionOfficer = "Dr. Datenschutz, dsb@tagblatt.example.test";
            return await db.SaveChangesAsync();
        });
        Assert.Contains("Dr. Datenschutz", await app.Reader().GetStringAsync("/n/eilmeldungen"));
    }
}
