using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13 (the class of point 4 elsewhere): the settings page checks the slug and then saves, so two saves of
/// the same new slug at once (two admins, a double-click on "create") both passed the check and the second met
/// the unique index: 500. The loser now gets the form's own "slug taken" message, and one newsletter exists.
/// </summary>
public sealed class NewsletterSlugRaceTests
{
    [Fact]
    public async Task Eight_simultaneous_creations_of_one_slug_make_one_newsletter_and_tell_the_others_the_slug_is_taken()
    {
        await using var app = new AppFactory();
        await app.StaffAsync("admin@example.test", "long enough password", Roles.Admin);
        var staff = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Redirect, (await staff.SignInAsync("admin@example.test", "long enough password")).StatusCode);
        var form = await staff.GetStringAsync("/admin/newsletters/edit");

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            var response = await staff.PostFormAsync("/admin/newsletters/edit", form, new Dictionary<string, string>
            {
                ["Input.Name"] = "Tagblatt Eilmeldungen",
                ["Input.Slug"] = "eilmeldungen",
                ["Input.SenderName"] = "Tagblatt",
                ["Input.SenderAddress"] = "newsletter@tagblatt.example.test",
                ["Input.DefaultRegion"] = "DE",
            }.WithLegalIdentity());
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })));

        Assert.All(answers, a => Assert.True(a.StatusCode == HttpStatusCode.Redirect || a.Body.Contains("Dieser Kurzname ist schon vergeben."),
            $"answered {(int)a.StatusCode}"));
        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Redirect);
        Assert.Equal(1, await app.WithDbAsync(db => db.Newsletters.CountAsync(n => n.Slug == "eilmeldungen")));
    }
}
