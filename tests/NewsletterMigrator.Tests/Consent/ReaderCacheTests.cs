using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Consent;
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

    [Fact]
    public async Task Pages_of_slugs_that_do_not_exist_add_nothing_to_the_cache()
    {
        await using var app = new AppFactory(settings: new() { ["Consent:ReaderCacheLifetime"] = "01:00:00" });
        await app.NewsletterAsync();
        var reader = app.ReaderClient();
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/n/eilmeldungen")).StatusCode);
        var cache = app.Service<ReaderCache>();
        var held = cache.Count;

        // GET is not rate-limited and a slug may be kilobytes long: a key per asked slug would grow without end.
        for (var i = 0; i < 50; i++)
            Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/n/{Guid.NewGuid():N}{new string('x', 2000)}")).StatusCode);
        Assert.Equal(held, cache.Count);
        Assert.Contains("Tagblatt Eilmeldungen", await reader.GetStringAsync("/n/eilmeldungen"));
    }

    [Fact]
    public async Task Requests_that_miss_the_cache_together_share_one_load()
    {
        await using var app = new AppFactory(settings: new() { ["Consent:ReaderCacheLifetime"] = "01:00:00" });
        var newsletter = await app.NewsletterAsync();
        var cache = app.Service<ReaderCache>();

        var before = cache.Loads;
        using var start = new Barrier(8);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return cache.AllNewslettersAsync();
        }, TaskCreationOptions.LongRunning).Unwrap()));
        Assert.Equal(1, cache.Loads - before);

        before = cache.Loads;
        using var again = new Barrier(8);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            again.SignalAndWait();
            return cache.ConsentTextAsync(newsletter, "de");
        }, TaskCreationOptions.LongRunning).Unwrap()));
        Assert.Equal(1, cache.Loads - before);
    }

    [Fact]
    public async Task A_consent_text_is_composed_from_the_newsletter_as_stored_never_from_an_older_copy_a_page_holds_C7_C43()
    {
        // No caching: every call loads, as when the text's entry expires while a page holds a newsletter read before an edit.
        await using var app = new AppFactory(settings: new() { ["Consent:ReaderCacheLifetime"] = "00:00:00" });
        var before = await app.NewsletterAsync(); // the page's copy, read before the edit
        await app.WithDbAsync(async db =>
        {
            var newsletter = await db.Newsletters.SingleAsync();
            newsletter.ControllerName = "Neue Tagblatt Medien GmbH";
            return await db.SaveChangesAsync();
        });
        Assert.Contains("Neue Tagblatt Medien GmbH", await app.ReaderClient().GetStringAsync("/n/eilmeldungen")); // shown: fixed as seen

        var text = await app.Service<ReaderCache>().ConsentTextAsync(before, "de");

        Assert.Contains("Neue Tagblatt Medien GmbH", text!.Impressum);
        // No version with the old legal identity was stored after the new one was shown.
        var versions = await app.WithDbAsync(db => db.ConsentTexts.Where(c => c.Language == "de").OrderBy(c => c.Version).ToListAsync());
        Assert.All(versions, v => Assert.Contains("Neue Tagblatt Medien GmbH", v.Impressum));
    }
}
