using System.Net;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// Behind a load balancer a person's next request may reach another instance: the form it posts and the cookie it
/// carries were made by the first one. Both instances read one key ring from the database (issue 18).
/// </summary>
public sealed class SharedKeyRingTests
{
    private const string Email = "admin@example.test";
    private const string Password = "Kennwort-fuer-Tests-1";

    [ProviderTheory, DatabaseProviders]
    public async Task A_form_from_one_instance_signs_in_on_another_and_the_cookie_opens_the_admin_area_on_the_first(DatabaseProvider database)
    {
        await using var first = new AppFactory(provider: database);
        await using var second = new AppFactory(reuse: first, ownDataFolder: true);
        await first.StaffAsync(Email, Password, Roles.Admin);
        // One browser whose requests the load balancer spreads over both instances.
        var cookies = new CookieContainer();
        var toFirst = first.CreateDefaultClient(new CookieContainerHandler(cookies));
        var toSecond = second.CreateDefaultClient(new CookieContainerHandler(cookies));

        var login = await toFirst.GetStringAsync("/account/login");
        var signedIn = await toSecond.PostFormAsync("/account/login", login, new() { ["Email"] = Email, ["Password"] = Password });

        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var dashboard = await toFirst.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal(1, await first.WithDbAsync(db => db.DataProtectionKeys.CountAsync()));
        Assert.Empty(Directory.EnumerateFiles(first.DataDirectory, "*.xml", SearchOption.AllDirectories));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task Keys_an_earlier_version_kept_in_the_data_folder_are_taken_into_the_database_so_its_sessions_stay_valid(DatabaseProvider database)
    {
        await using var before = new AppFactory(provider: database);
        await before.StaffAsync(Email, Password, Roles.Admin);
        var cookies = new CookieContainer();
        Assert.Equal(HttpStatusCode.Redirect, (await before.CreateDefaultClient(new CookieContainerHandler(cookies)).SignInAsync(Email, Password)).StatusCode);
        // What an earlier version left: the key as an XML file in its data folder, none in the database.
        var key = await before.WithDbAsync(db => db.DataProtectionKeys.SingleAsync());
        await before.WithDbAsync(db => db.DataProtectionKeys.ExecuteDeleteAsync());
        await before.StopHostAsync();

        await using var upgraded = new AppFactory(reuse: before, ownDataFolder: true);
        var folder = Directory.CreateDirectory(Path.Combine(upgraded.DataDirectory, "keys"));
        await File.WriteAllTextAsync(Path.Combine(folder.FullName, key.FriendlyName + ".xml"), key.Xml);
        var dashboard = await upgraded.CreateDefaultClient(new CookieContainerHandler(cookies)).GetAsync("/admin");

        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Equal(key.FriendlyName, await upgraded.WithDbAsync(db => db.DataProtectionKeys.Select(k => k.FriendlyName).SingleAsync()));
    }

    [ProviderTheory, DatabaseProviders]
    public async Task The_setup_code_one_instance_printed_creates_the_first_admin_on_the_other(DatabaseProvider database)
    {
        await using var first = new AppFactory(provider: database) { TwoFactorPolicy = null };
        await using var second = new AppFactory(reuse: first, ownDataFolder: true) { TwoFactorPolicy = null };
        var printedByFirst = first.Service<SetupCode>().Value;
        var browser = second.CreateDefaultClient(new CookieContainerHandler(new CookieContainer()));

        var setup = await browser.PostFormAsync("/setup", await browser.GetStringAsync("/setup"),
            new() { ["Code"] = printedByFirst, ["Email"] = Email, ["Password"] = Password });

        Assert.Equal(HttpStatusCode.Redirect, setup.StatusCode);
        Assert.Equal(1, await second.WithDbAsync(db => db.Users.CountAsync()));
    }
}
