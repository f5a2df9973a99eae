using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>Creates staff accounts for the first-run page, the create-admin command and the admin area.</summary>
public sealed class StaffAccounts(UserManager<StaffUser> users, RoleManager<IdentityRole> roles, AppDbContext db, TimeProvider clock)
{
    public Task<bool> AnyAsync(CancellationToken ct = default) => db.Users.AnyAsync(ct);

    /// <param name="newsletterIds">An editor's newsletters (existing ones, checked by the caller).</param>
    public async Task<IdentityResult> CreateAsync(string email, string password, string role, string createdBy, IReadOnlyCollection<int>? newsletterIds = null)
    {
        foreach (var name in Roles.All)
        {
            if (!await roles.RoleExistsAsync(name)) await roles.CreateAsync(new IdentityRole(name));
        }
        // Identity checks no characters here (AllowedUserNameCharacters is empty), and an address MailKit cannot parse
        // would fail every later mail to the account with a 500: checked once here for the web and the command line.
        if (!EmailAddress.TryNormalize(email, out var address)) return IdentityResult.Failed(users.ErrorDescriber.InvalidEmail(email));
        email = address;
        var user = new StaffUser { UserName = email, Email = email, EmailConfirmed = true };
        // The account, its role and its newsletters together, or none of them.
        await using var transaction = await db.Database.BeginTransactionAsync();
        var result = await users.CreateAsync(user, password);
        if (!result.Succeeded) return result;
        result = await users.AddToRoleAsync(user, role);
        if (!result.Succeeded) return result;
        var scope = role == Roles.Admin ? [] : (newsletterIds ?? []).Distinct().ToList();
        db.StaffNewsletters.AddRange(scope.Select(id => new StaffNewsletter { UserId = user.Id, NewsletterId = id }));
        db.Audit(createdBy, "settings", $"created staff account {Redact.Email(email)} with role {role}"
            + (scope.Count > 0 ? $" for newsletters [{string.Join(", ", scope.Order())}]" : ""), clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        await transaction.CommitAsync();
        return result;
    }
}
