using System.Linq.Expressions;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Who counts as staff when the app acts on its own behalf (test mails, alerts, "one admin remains"): an account that
/// can sign in, that is one not deactivated and with a password set. A deactivated colleague has left; an open
/// invitation may carry a mistyped address and belongs to nobody yet. The one place this rule lives, as a query for
/// SQL and as a check for an account already loaded.
/// </summary>
public static class ActiveStaff
{
    private static readonly Expression<Func<StaffUser, bool>> Rule = u => u.DeactivatedAtUtc == null && u.PasswordHash != null;
    private static readonly Func<StaffUser, bool> Check = Rule.Compile();

    public static IQueryable<StaffUser> Active(this IQueryable<StaffUser> users) => users.Where(Rule);

    public static bool IsActive(this StaffUser user) => Check(user);

    /// <summary>The active accounts with <paramref name="role"/>.</summary>
    public static IQueryable<StaffUser> ActiveInRole(this AppDbContext db, string role) =>
        db.Users.Active().Where(u => db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == role)));

    /// <summary>
    /// The active staff who work on the newsletter: every admin (an admin sees all newsletters) and the editors assigned
    /// to it (<see cref="StaffNewsletter"/>).
    /// </summary>
    public static IQueryable<StaffUser> ActiveOnNewsletter(this AppDbContext db, int newsletterId) =>
        db.Users.Active().Where(u => db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId
            && (r.Name == Roles.Admin || (r.Name == Roles.Editor && db.StaffNewsletters.Any(s => s.UserId == u.Id && s.NewsletterId == newsletterId))))));
}
