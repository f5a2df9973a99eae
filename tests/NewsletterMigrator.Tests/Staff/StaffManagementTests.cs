using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;
using static NewsletterMigrator.Tests.StaffSteps;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15, point 1: /admin/staff. An admin invites a colleague, who sets a password through a one-time link that
/// expires; role, newsletters, deactivation and a 2FA reset take effect on the colleague's next request; one active
/// admin always remains. Real Kestrel where the cookie matters.
/// </summary>
public sealed class StaffManagementTests
{
    private const string Admin = "chefin@example.test";
    private const string Editor = "redakteur@example.test";

    [Fact]
    public async Task An_invited_editor_sets_a_password_through_the_mailed_link_once_and_then_signs_in()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        var newsletter = await app.NewsletterAsync();
        using var admin = await AdminBrowserAsync(app);

        var invited = await admin.InviteAsync(Editor, Roles.Editor, "en", newsletter.Id);
        Assert.Equal(HttpStatusCode.Redirect, invited.StatusCode);
        var list = await admin.GetStringAsync("/admin/staff");
        Assert.Contains("Einladung an redakteur@example.test verschickt.", list);
        Assert.Contains("eingeladen, Passwort noch nicht gesetzt", list);
        Assert.Contains("Tagblatt Eilmeldungen", list);

        // In the invitee's language, from the newsletter's sender (no Staff:MailFrom set).
        var mail = await app.Smtp.WaitForAsync(Editor, "Your access to NewsletterMigrator");
        Assert.Equal("newsletter@tagblatt.example.test", mail.From.Mailboxes.Single().Address);
        Assert.Contains("valid for 48 hours", mail.TextBody);
        var link = LinkIn(mail, "/account/welcome");

        using var invitee = app.RealBrowser();
        Assert.Contains("Anmeldung fehlgeschlagen", await (await invitee.SignInAsync(Editor, Password)).Content.ReadAsStringAsync()); // no password yet
        Assert.Contains("mindestens 12 Zeichen lang", await (await invitee.SetPasswordAsync(link, "too short")).Content.ReadAsStringAsync());
        Assert.Contains("stimmen nicht überein", await (await invitee.SetPasswordAsync(link, Password, "another long password")).Content.ReadAsStringAsync());
        Assert.Null((await app.UserAsync(Editor)).PasswordHash);

        var set = await invitee.SetPasswordAsync(link, Password);
        Assert.Equal("/account/login", set.Headers.Location?.OriginalString);
        Assert.Contains("Ihr Passwort ist gesetzt", await invitee.GetStringAsync("/account/login"));
        Assert.Equal(HttpStatusCode.Redirect, (await invitee.SignInAsync(Editor, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await invitee.GetAsync("/admin")).StatusCode);
        Assert.Contains("aktiv", await admin.GetStringAsync("/admin/staff"));

        // The link works once: a second use shows the clear page and changes nothing.
        var hash = (await app.UserAsync(Editor)).PasswordHash;
        using var someoneElse = app.RealBrowser();
        var again = await someoneElse.GetAsync(link);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("abgelaufen, wurde schon benutzt oder ist ungültig", await again.Content.ReadAsStringAsync());
        var forcedPost = await someoneElse.PostFieldsAsync(link, await someoneElse.GetStringAsync("/account/forgot-password"),
            ("Password", "a different long password"), ("Confirmation", "a different long password"));
        Assert.Equal(HttpStatusCode.BadRequest, forcedPost.StatusCode);
        Assert.Equal(hash, (await app.UserAsync(Editor)).PasswordHash);

        var audit = await app.AuditAsync();
        Assert.Contains("invited r***@example.test as Editor for newsletters [" + newsletter.Id + "]", audit);
        Assert.Contains("r***@example.test accepted the invitation and set a password", audit);
        Assert.DoesNotContain(audit, a => a.Contains(Editor));
    }

    [Fact]
    public async Task An_invitation_link_expires_after_48_hours_and_an_expired_or_forged_link_changes_nothing_in_German_or_English()
    {
        var clock = new SettableClock();
        await using var app = new AppFactory { TestServices = s => s.AddSingleton<TimeProvider>(clock) };
        var admin = await app.AdminAsync();
        await admin.InviteAsync(Editor, Roles.Editor);
        var link = LinkIn(await app.Smtp.WaitForAsync(Editor, "Ihr Zugang"), "/account/welcome");
        var reader = app.ReaderClient();

        clock.Advance(TimeSpan.FromHours(47));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(link)).StatusCode);
        var forged = link[..^3] + (link[^3] == 'A' ? "B" : "A") + link[^2..];
        var forgedAnswer = await reader.GetAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, forgedAnswer.StatusCode);
        Assert.Contains("Dieser Einladungslink ist abgelaufen", await forgedAnswer.Content.ReadAsStringAsync());

        clock.Advance(TimeSpan.FromHours(1.5));
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.GetAsync(link)).StatusCode);
        // The form sent to the expired link anyway (kept open since hour 47): the POST handler checks the link itself.
        var expired = await reader.PostFieldsAsync(link, await reader.GetStringAsync("/account/forgot-password"), ("Password", Password), ("Confirmation", Password));
        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Contains("Dieser Einladungslink ist abgelaufen", await expired.Content.ReadAsStringAsync());
        var english = await app.ReaderClient("en").GetAsync(link);
        Assert.Contains("This invitation link has expired", await english.Content.ReadAsStringAsync());
        Assert.Null((await app.UserAsync(Editor)).PasswordHash);
    }

    [Fact]
    public async Task When_the_invitation_mail_fails_the_account_stays_and_send_again_mails_a_new_link_that_replaces_the_old()
    {
        await using var app = new AppFactory(settings: new() { ["Staff:MailFrom"] = "team@tagblatt.example.test" });
        var admin = await app.AdminAsync();
        app.Smtp.Refuse[Editor] = TestSmtpServer.Reply(451, "4.3.0 try later");
        var invited = await admin.InviteAsync(Editor, Roles.Editor);
        var id = await app.UserIdAsync(Editor);
        Assert.Equal($"/admin/staff/{id}", invited.Headers.Location?.OriginalString);
        var page = await admin.GetStringAsync(invited.Headers.Location!.OriginalString);
        Assert.Contains("Die Einladungs-Mail konnte nicht verschickt werden", page);
        Assert.Contains("Einladung erneut senden", page);

        app.Smtp.Refuse.Clear();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Resend")).StatusCode);
        var first = await app.Smtp.WaitForAsync(Editor, "Ihr Zugang");
        Assert.Equal("team@tagblatt.example.test", first.From.Mailboxes.Single().Address);
        var firstLink = LinkIn(first, "/account/welcome");
        Assert.Contains("Einladung erneut verschickt", await admin.GetStringAsync($"/admin/staff/{id}"));

        await admin.StaffActionAsync(id, "Resend");
        var second = await app.Smtp.WaitForAsync(m => m.To.ToString().Contains(Editor) && LinkIn(m, "/account/welcome") != firstLink);
        var reader = app.ReaderClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await reader.GetAsync(firstLink)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await reader.SetPasswordAsync(LinkIn(second, "/account/welcome"), Password)).StatusCode);
    }

    [Fact]
    public async Task Changing_an_invitee_s_newsletters_or_role_keeps_the_mailed_link_working()
    {
        await using var app = new AppFactory();
        var a = await app.NewsletterAsync("a");
        var b = await app.NewsletterAsync("b");
        var admin = await app.AdminAsync();
        await admin.InviteAsync(Editor, Roles.Editor, "de", a.Id);
        var link = LinkIn(await app.Smtp.WaitForAsync(Editor, "Ihr Zugang"), "/account/welcome");
        var id = await app.UserIdAsync(Editor);

        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Access", ("Role", Roles.Editor), ("NewsletterIds", b.Id.ToString()))).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Access", ("Role", Roles.Admin))).StatusCode);
        Assert.Contains("eingeladen, Passwort noch nicht gesetzt", await admin.GetStringAsync("/admin/staff"));

        var reader = app.ReaderClient();
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(link)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await reader.SetPasswordAsync(link, Password)).StatusCode);
        Assert.NotNull((await app.UserAsync(Editor)).PasswordHash);
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SignInAsync(Editor, Password)).StatusCode);
    }

    [Fact]
    public async Task A_pending_invitee_has_no_2FA_reset_button_and_the_handler_refuses_so_the_mailed_link_keeps_working()
    {
        await using var app = new AppFactory();
        var admin = await app.AdminAsync();
        await admin.InviteAsync(Editor, Roles.Editor);
        var link = LinkIn(await app.Smtp.WaitForAsync(Editor, "Ihr Zugang"), "/account/welcome");
        var id = await app.UserIdAsync(Editor);
        var stamp = (await app.UserAsync(Editor)).SecurityStamp;

        Assert.DoesNotContain("staff-reset-2fa", await admin.GetStringAsync($"/admin/staff/{id}"));
        var refused = await admin.StaffActionAsync(id, "ResetTwoFactor");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Die Einladung ist noch offen", await refused.Content.ReadAsStringAsync());
        Assert.Equal(stamp, (await app.UserAsync(Editor)).SecurityStamp);
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SetPasswordAsync(link, Password)).StatusCode);
        Assert.Contains("staff-reset-2fa", await admin.GetStringAsync($"/admin/staff/{id}")); // once accepted, the button is back
    }

    [Fact]
    public async Task The_welcome_form_posted_twice_at_once_sets_the_password_once_and_answers_the_other_in_German()
    {
        await using var app = new AppFactory();
        var admin = await app.AdminAsync();
        await admin.InviteAsync(Editor, Roles.Editor);
        var link = LinkIn(await app.Smtp.WaitForAsync(Editor, "Ihr Zugang"), "/account/welcome");
        var reader = app.ReaderClient();
        var page = await reader.GetStringAsync(link);

        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            reader.PostFieldsAsync(link, page, ("Password", Password), ("Confirmation", Password))));
        Assert.DoesNotContain(responses, r => r.StatusCode == HttpStatusCode.InternalServerError);
        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Redirect);
        foreach (var other in responses.Where(r => r.StatusCode != HttpStatusCode.Redirect))
        {
            var html = await other.Content.ReadAsStringAsync();
            Assert.DoesNotContain("Optimistic concurrency failure", html);
            Assert.DoesNotContain("already has a password", html);
        }
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SignInAsync(Editor, Password)).StatusCode);
    }

    [Fact]
    public async Task Staff_mail_in_the_pickup_folder_is_owner_only_and_an_unwritable_folder_is_a_failed_send_not_an_error_page()
    {
        if (OperatingSystem.IsWindows()) return;
        var data = Directory.CreateTempSubdirectory("nm-staff-pickup-").FullName;
        var pickup = Path.Combine(data, "pickup");
        await using var app = new AppFactory(settings: new() { ["Smtp:Host"] = "", ["Smtp:PickupDirectory"] = pickup });
        var admin = await app.AdminAsync();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.InviteAsync(Editor, Roles.Editor)).StatusCode);
        var mail = Assert.Single(Directory.GetFiles(Path.Combine(pickup, "staff"), "*.eml"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(mail));

        // Not writable (as root every folder is writable, so a file stands where the staff folder should be).
        Directory.Delete(Path.Combine(pickup, "staff"), recursive: true);
        await File.WriteAllTextAsync(Path.Combine(pickup, "staff"), "");
        File.SetUnixFileMode(pickup, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            var resend = await admin.StaffActionAsync(await app.UserIdAsync(Editor), "Resend");
            Assert.NotEqual(HttpStatusCode.InternalServerError, resend.StatusCode);
        }
        finally { File.SetUnixFileMode(pickup, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
    }

    [Fact]
    public async Task Deactivating_an_invitee_voids_the_link_and_send_again_is_refused_until_reactivated()
    {
        await using var app = new AppFactory();
        var admin = await app.AdminAsync();
        await admin.InviteAsync(Editor, Roles.Editor);
        var link = LinkIn(await app.Smtp.WaitForAsync(Editor, "Ihr Zugang"), "/account/welcome");
        var id = await app.UserIdAsync(Editor);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Deactivate")).StatusCode);
        Assert.DoesNotContain("staff-resend", await admin.GetStringAsync($"/admin/staff/{id}"));

        // The button is gone; a forged POST sends nothing and says why.
        var resend = await admin.StaffActionAsync(id, "Resend");
        Assert.Equal(HttpStatusCode.Redirect, resend.StatusCode);
        Assert.Contains("Das Konto ist deaktiviert: Es wurde keine Einladung verschickt", await admin.GetStringAsync($"/admin/staff/{id}"));
        Assert.Single(app.Smtp.Messages, m => m.To.ToString().Contains(Editor));
        Assert.DoesNotContain("sent the invitation of r***@example.test again", await app.AuditAsync());

        // Reactivated, the old link stays void: send again mails a new one.
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Reactivate")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.ReaderClient().GetAsync(link)).StatusCode);
        await admin.StaffActionAsync(id, "Resend");
        var second = await app.Smtp.WaitForAsync(m => m.To.ToString().Contains(Editor) && LinkIn(m, "/account/welcome") != link);
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SetPasswordAsync(LinkIn(second, "/account/welcome"), Password)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Resend")).StatusCode);
        Assert.Contains("Die Einladung ist schon angenommen", await admin.GetStringAsync($"/admin/staff/{id}"));
        Assert.Equal(2, app.Smtp.Messages.Count(m => m.To.ToString().Contains(Editor)));
    }

    [Fact]
    public async Task An_address_with_an_apostrophe_can_be_invited_and_what_Identity_refuses_is_not_called_a_duplicate()
    {
        await using var app = new AppFactory();
        var admin = await app.AdminAsync();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.InviteAsync("o'neil@example.test", Roles.Editor)).StatusCode);
        var link = LinkIn(await app.Smtp.WaitForAsync("o'neil@example.test", "Ihr Zugang"), "/account/welcome");
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SetPasswordAsync(link, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await app.ReaderClient().SignInAsync("o'neil@example.test", Password)).StatusCode);

        // Any other refusal by Identity is said in its own words, not as "already staff" (a house rule added for this test).
        await using var strict = new AppFactory { TestServices = s => s.AddScoped<IUserValidator<StaffUser>, RefuseBlockedDomain>() };
        var strictAdmin = await strict.AdminAsync();
        var refused = await strictAdmin.InviteAsync("jemand@blocked.example.test", Roles.Editor);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains(RefuseBlockedDomain.Reason, html);
        Assert.DoesNotContain("Für diese Adresse gibt es schon einen Zugang", html);
        Assert.Equal(1, await strict.WithDbAsync(db => db.Users.CountAsync()));
        Assert.Empty(strict.Smtp.Messages);
    }

    private sealed class RefuseBlockedDomain : IUserValidator<StaffUser>
    {
        public const string Reason = "Adressen dieser Domain sind hier nicht zugelassen.";

        public Task<IdentityResult> ValidateAsync(UserManager<StaffUser> manager, StaffUser user) => Task.FromResult(
            user.Email?.EndsWith("@blocked.example.test") == true ? IdentityResult.Failed(new IdentityError { Code = "Blocked", Description = Reason }) : IdentityResult.Success);
    }

    [Fact]
    public async Task The_last_active_admin_cannot_be_deactivated_or_demoted_also_not_by_themself()
    {
        await using var app = new AppFactory();
        var admin = await app.AdminAsync();
        var self = await app.UserIdAsync("admin@example.test");

        foreach (var (handler, fields) in new[] { ("Deactivate", Array.Empty<(string, string)>()), ("Access", [("Role", Roles.Editor)]) })
        {
            var refused = await admin.StaffActionAsync(self, handler, fields);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains("Das ist der letzte aktive Admin-Zugang", await refused.Content.ReadAsStringAsync());
        }
        // An invited admin who has not set a password yet cannot take over: still the last active one.
        await admin.InviteAsync("zweite@example.test", Roles.Admin);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.StaffActionAsync(self, "Deactivate")).StatusCode);
        var me = await app.UserAsync("admin@example.test");
        Assert.Null(me.DeactivatedAtUtc);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/staff")).StatusCode);

        await app.ReaderClient().SetPasswordAsync(LinkIn(await app.Smtp.WaitForAsync("zweite@example.test", "Ihr Zugang"), "/account/welcome"), Password);
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(self, "Access", ("Role", Roles.Editor))).StatusCode);
        Assert.True(StaffSteps.LandsOnLogin(await admin.GetAsync("/admin/staff")), "the demoted admin is signed out");
        Assert.Contains("set a***@example.test to Editor for newsletters []", await app.AuditAsync());
    }

    [Fact]
    public async Task Two_admins_removing_each_other_at_the_same_moment_leave_one_active_admin()
    {
        await using var app = new AppFactory();
        await app.StaffAsync("a@example.test", Password, Roles.Admin);
        await app.StaffAsync("b@example.test", Password, Roles.Admin);
        var a = await app.UserIdAsync("a@example.test");
        var b = await app.UserIdAsync("b@example.test");
        for (var round = 0; round < 20; round++)
        {
            var outcomes = await Task.WhenAll(
                Task.Run(() => InScopeAsync(app, staff => staff.DeactivateAsync(a, "b@example.test"))),
                Task.Run(() => round % 2 == 0
                    ? InScopeAsync(app, staff => staff.DeactivateAsync(b, "a@example.test"))
                    : InScopeAsync(app, staff => staff.ChangeAccessAsync(b, Roles.Editor, [], "a@example.test"))));
            Assert.Equal([StaffChange.Done, StaffChange.LastAdmin], outcomes.Order());
            Assert.Equal(1, await app.WithDbAsync(db => db.Users.CountAsync(u => u.DeactivatedAtUtc == null
                && db.UserRoles.Any(r => r.UserId == u.Id && db.Roles.Any(x => x.Id == r.RoleId && x.Name == Roles.Admin)))));
            // Both admins again for the next round.
            await InScopeAsync(app, staff => staff.ReactivateAsync(a, "test"));
            await InScopeAsync(app, staff => staff.ReactivateAsync(b, "test"));
            await InScopeAsync(app, staff => staff.ChangeAccessAsync(b, Roles.Admin, [], "test"));
        }
    }

    [Fact]
    public async Task A_deactivated_editor_s_next_request_lands_on_the_login_page_and_signing_in_fails_like_a_wrong_password()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        var newsletter = await app.NewsletterAsync();
        await app.StaffAsync(Editor, Password, Roles.Editor);
        using var admin = await AdminBrowserAsync(app);
        using var editor = app.RealBrowser();
        Assert.Equal(HttpStatusCode.Redirect, (await editor.SignInAsync(Editor, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync("/admin")).StatusCode);
        var id = await app.UserIdAsync(Editor);

        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Deactivate")).StatusCode);
        Assert.True(LandsOnLogin(await editor.GetAsync("/admin")));
        Assert.True(LandsOnLogin(await editor.GetAsync($"/admin/campaigns/{newsletter.Id}")));
        Assert.Contains("deaktiviert", await admin.GetStringAsync("/admin/staff"));

        var refused = await editor.SignInAsync(Editor, Password);
        var wrong = await app.RealBrowser().SignInAsync("nobody@example.test", Password);
        Assert.Equal(wrong.StatusCode, refused.StatusCode);
        var refusedText = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Anmeldung fehlgeschlagen", refusedText);
        Assert.DoesNotContain("deaktiviert", refusedText);
        Assert.True(LandsOnLogin(await editor.GetAsync("/admin")));

        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Reactivate")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await editor.SignInAsync(Editor, Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync("/admin")).StatusCode);
        var audit = await app.AuditAsync();
        Assert.Contains("deactivated r***@example.test", audit);
        Assert.Contains("reactivated r***@example.test", audit);
    }

    [Fact]
    public async Task A_newsletter_change_or_a_2FA_reset_signs_the_colleague_out_and_the_reset_clears_key_and_recovery_codes()
    {
        await using var app = new AppFactory(kestrel: true);
        app.StartServer();
        var a = await app.NewsletterAsync("a");
        var b = await app.NewsletterAsync("b");
        await app.StaffAsync(Editor, Password, Roles.Editor);
        var id = await app.UserIdAsync(Editor);
        using var admin = await AdminBrowserAsync(app);
        using var editor = app.RealBrowser();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "Access", ("Role", Roles.Editor), ("NewsletterIds", a.Id.ToString()))).StatusCode);
        await editor.SignInAsync(Editor, Password);
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync($"/admin/campaigns/{a.Id}")).StatusCode);

        await admin.StaffActionAsync(id, "Access", ("Role", Roles.Editor), ("NewsletterIds", b.Id.ToString()));
        Assert.True(LandsOnLogin(await editor.GetAsync($"/admin/campaigns/{a.Id}")));
        await editor.SignInAsync(Editor, Password);
        Assert.Equal(HttpStatusCode.NotFound, (await editor.GetAsync($"/admin/campaigns/{a.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await editor.GetAsync($"/admin/campaigns/{b.Id}")).StatusCode);

        // As if the colleague had set up an authenticator app (the other half of issue 15).
        string oldKey;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
            var user = (await users.FindByIdAsync(id))!;
            await users.ResetAuthenticatorKeyAsync(user);
            await users.SetTwoFactorEnabledAsync(user, true);
            await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 10);
            oldKey = (await users.GetAuthenticatorKeyAsync(user))!;
        }
        await editor.SignInAsync(Editor, Password);
        Assert.Contains("<td>an</td>", await admin.GetStringAsync("/admin/staff"));

        Assert.Equal(HttpStatusCode.Redirect, (await admin.StaffActionAsync(id, "ResetTwoFactor")).StatusCode);
        Assert.True(LandsOnLogin(await editor.GetAsync("/admin")));
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
            var user = (await users.FindByIdAsync(id))!;
            Assert.False(await users.GetTwoFactorEnabledAsync(user));
            Assert.NotEqual(oldKey, await users.GetAuthenticatorKeyAsync(user));
            Assert.Equal(0, await users.CountRecoveryCodesAsync(user));
        }
        Assert.Contains("<td>aus</td>", await admin.GetStringAsync("/admin/staff"));
        Assert.Contains("reset two-factor sign-in of r***@example.test", await app.AuditAsync());
    }

    [Fact]
    public async Task Staff_pages_are_for_admins_only_and_bad_input_is_refused_with_a_message()
    {
        await using var app = new AppFactory();
        var editor = await app.EditorAsync();
        Assert.True((await editor.GetAsync("/admin/staff")).Headers.Location?.OriginalString.Contains("/account/denied"));
        Assert.DoesNotContain("nav-staff", await editor.GetStringAsync("/admin"));

        var admin = await app.AdminAsync();
        Assert.Contains("nav-staff", await admin.GetStringAsync("/admin"));
        var invalid = await admin.InviteAsync("not an address", Roles.Editor);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("gültige E-Mail-Adresse", await invalid.Content.ReadAsStringAsync());
        var duplicate = await admin.InviteAsync("EDITOR@example.test", Roles.Editor);
        Assert.Contains("Für diese Adresse gibt es schon einen Zugang", await duplicate.Content.ReadAsStringAsync());
        Assert.Contains("Bitte wählen Sie die Rolle", await (await admin.InviteAsync(Editor, "Owner")).Content.ReadAsStringAsync());
        Assert.Contains("existiert nicht", await (await admin.InviteAsync(Editor, Roles.Editor, "de", 999)).Content.ReadAsStringAsync());
        Assert.Equal(2, await app.WithDbAsync(db => db.Users.CountAsync()));
        Assert.Empty(app.Smtp.Messages);
    }

    [Fact]
    public void A_staff_sender_that_is_no_address_stops_start_up_with_the_key_named()
    {
        using (var app = new AppFactory(settings: new() { ["Staff:MailFrom"] = "team at example" })) Assert.ThrowsAny<Exception>(() => app.CreateClient());
        var result = new StaffMailOptionsValidator().Validate(null, new StaffMailOptions { MailFrom = "team at example" });
        Assert.Contains("Staff:MailFrom", result.FailureMessage);
        Assert.True(new StaffMailOptionsValidator().Validate(null, new StaffMailOptions()).Succeeded);
    }

    private static async Task<HttpClient> AdminBrowserAsync(AppFactory app)
    {
        await app.StaffAsync(Admin, Password, Roles.Admin);
        var admin = app.RealBrowser();
        Assert.Equal(HttpStatusCode.Redirect, (await admin.SignInAsync(Admin, Password)).StatusCode);
        return admin;
    }

    private static async Task<T> InScopeAsync<T>(AppFactory app, Func<StaffDirectory, Task<T>> action)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<StaffDirectory>());
    }
}
