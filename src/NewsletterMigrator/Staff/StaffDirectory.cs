using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>One staff account as the staff page shows it.</summary>
/// <param name="InvitationPending">Invited, no password set yet.</param>
public sealed record StaffMember(string Id, string Email, string Role, IReadOnlyList<int> NewsletterIds, IReadOnlyList<string> Newsletters,
    bool TwoFactorEnabled, bool Active, bool InvitationPending, DateTime? InvitedAtUtc, string Language);

public enum StaffChange { Done, NotFound, LastAdmin, InvalidRole, UnknownNewsletter, InvitationPending }

public enum InvitationOutcome { Sent, MailFailed, InvalidAddress, AlreadyStaff, InvalidRole, UnknownNewsletter, NotFound, AlreadyAccepted, Deactivated, Refused }

/// <summary>What an invitation did; <see cref="Errors"/> says why Identity refused the account (<see cref="InvitationOutcome.Refused"/>).</summary>
public sealed record InvitationResult(InvitationOutcome Outcome, string? UserId = null, IReadOnlyList<string>? Errors = null);

/// <summary>
/// The rules of staff management: invite, change role and newsletters, deactivate and reactivate, reset two-factor,
/// send an invitation again. One active admin (one who can sign in) always remains, also under concurrent requests:
/// the check and the change share a transaction that locks the staff rows first (<see cref="RowLocks.LockStaffAsync"/>).
/// A change to what someone may do or whether they may sign in renews their security stamp, which ends their sessions
/// on their next request (the cookie is checked on every request, <see cref="StaffIdentitySetup"/>). Every action is
/// audited with the address redacted.
/// </summary>
public sealed class StaffDirectory(UserManager<StaffUser> users, RoleManager<IdentityRole> roles, AppDbContext db, StaffMail mail,
    IOptions<AppOptions> app, TimeProvider clock)
{
    public async Task<List<StaffMember>> ListAsync(CancellationToken ct = default)
    {
        var accounts = await db.Users.AsNoTracking().OrderBy(u => u.Email).ToListAsync(ct);
        var members = new List<StaffMember>(accounts.Count);
        foreach (var user in accounts) members.Add(await DescribeAsync(user, ct));
        return members;
    }

    public async Task<StaffMember?> GetAsync(string id, CancellationToken ct = default) =>
        await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == id, ct) is { } user ? await DescribeAsync(user, ct) : null;

    private async Task<StaffMember> DescribeAsync(StaffUser user, CancellationToken ct)
    {
        var role = (await users.GetRolesAsync(user)).Contains(Roles.Admin) ? Roles.Admin : Roles.Editor;
        var newsletters = await db.StaffNewsletters.Where(s => s.UserId == user.Id)
            .Join(db.Newsletters, s => s.NewsletterId, n => n.Id, (_, n) => new { n.Id, n.Name }).OrderBy(n => n.Name).ToListAsync(ct);
        return new StaffMember(user.Id, user.Email ?? "", role, [.. newsletters.Select(n => n.Id)], [.. newsletters.Select(n => n.Name)],
            await users.GetTwoFactorEnabledAsync(user), user.DeactivatedAtUtc is null, user.PasswordHash is null, user.InvitedAtUtc, user.Language);
    }

    /// <summary>Creates the account without a password and mails the invitee a link to set one (<see cref="InvitationTokenProvider"/>).</summary>
    public async Task<InvitationResult> InviteAsync(string? email, string? role, IReadOnlyCollection<int> newsletterIds,
        string? language, string invitedBy, CancellationToken ct = default)
    {
        if (!EmailAddress.TryNormalize(email, out var address)) return new(InvitationOutcome.InvalidAddress);
        if (role is null || !Roles.All.Contains(role)) return new(InvitationOutcome.InvalidRole);
        var scope = role == Roles.Admin ? [] : newsletterIds.Distinct().ToList();
        if (!await NewslettersExistAsync(scope, ct)) return new(InvitationOutcome.UnknownNewsletter);
        if (await users.FindByEmailAsync(address) is not null) return new(InvitationOutcome.AlreadyStaff);

        await EnsureRolesAsync();
        var user = new StaffUser { UserName = address, Email = address, InvitedAtUtc = Now, Language = Languages.Normalize(language) };
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            var created = await users.CreateAsync(user);
            if (!created.Succeeded)
            {
                // The unique address, taken a moment ago; any other refusal is said as Identity words it, not as a duplicate.
                return created.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName))
                    ? new(InvitationOutcome.AlreadyStaff)
                    : new(InvitationOutcome.Refused, Errors: [.. created.Errors.Select(e => e.Description)]);
            }
            await users.AddToRoleAsync(user, role);
            db.StaffNewsletters.AddRange(scope.Select(id => new StaffNewsletter { UserId = user.Id, NewsletterId = id }));
            db.Audit(invitedBy, "staff", $"invited {Redact.Email(address)} as {role}{ScopeText(role, scope)}", Now);
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        return new(await MailInvitationAsync(user, await InvitationTokenAsync(user), invitedBy, ct), user.Id);
    }

    /// <summary>
    /// A new link (the old one stops working) for an invitee who has not set a password yet and is not deactivated: a
    /// deactivated account gets no link (reactivate it first). Checked and changed under the staff lock like every other
    /// change; the mail goes out after the commit, so no SMTP dialogue holds the database's write lock.
    /// </summary>
    public async Task<InvitationOutcome> ResendInvitationAsync(string id, string by, CancellationToken ct = default)
    {
        StaffUser user;
        string token;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await db.LockStaffAsync(ct);
            if (await users.FindByIdAsync(id) is not { } found) return InvitationOutcome.NotFound;
            user = found;
            await db.Entry(user).ReloadAsync(ct);
            if (user.PasswordHash is not null) return InvitationOutcome.AlreadyAccepted;
            if (user.DeactivatedAtUtc is not null) return InvitationOutcome.Deactivated;
            user.InvitedAtUtc = Now;
            db.Audit(by, "staff", $"sent the invitation of {Redact.Email(user.Email)} again", Now);
            await users.UpdateSecurityStampAsync(user); // saves both; the earlier link's stamp no longer matches
            token = await InvitationTokenAsync(user);
            await transaction.CommitAsync(ct);
        }
        return await MailInvitationAsync(user, token, by, ct);
    }

    private Task<string> InvitationTokenAsync(StaffUser user) =>
        users.GenerateUserTokenAsync(user, InvitationTokenProvider.Name, InvitationTokenProvider.Purpose);

    private async Task<InvitationOutcome> MailInvitationAsync(StaffUser user, string token, string by, CancellationToken ct)
    {
        var sent = await mail.SendInvitationAsync(user, WelcomeLink(user.Id, token), by, ct);
        return sent ? InvitationOutcome.Sent : InvitationOutcome.MailFailed;
    }

    public string WelcomeLink(string userId, string token) => app.Value.Link($"account/welcome?user={Uri.EscapeDataString(userId)}&token={token}");

    /// <summary>Role and, for an editor, the newsletters; an admin's newsletter rows are dropped (an admin sees all).</summary>
    public Task<StaffChange> ChangeAccessAsync(string id, string? role, IReadOnlyCollection<int> newsletterIds, string by, CancellationToken ct = default)
    {
        if (role is null || !Roles.All.Contains(role)) return Task.FromResult(StaffChange.InvalidRole);
        var scope = role == Roles.Admin ? [] : newsletterIds.Distinct().ToList();
        return ChangeAsync(id, removesAdmin: role != Roles.Admin, ct, async user =>
        {
            if (!await NewslettersExistAsync(scope, ct)) return StaffChange.UnknownNewsletter;
            var current = await users.GetRolesAsync(user);
            if (!current.SequenceEqual([role]))
            {
                await users.RemoveFromRolesAsync(user, current);
                await users.AddToRoleAsync(user, role);
            }
            db.StaffNewsletters.RemoveRange(await db.StaffNewsletters.Where(s => s.UserId == user.Id).ToListAsync(ct));
            db.StaffNewsletters.AddRange(scope.Select(n => new StaffNewsletter { UserId = user.Id, NewsletterId = n }));
            db.Audit(by, "staff", $"set {Redact.Email(user.Email)} to {role}{ScopeText(role, scope)}", Now);
            return StaffChange.Done;
        });
    }

    public Task<StaffChange> DeactivateAsync(string id, string by, CancellationToken ct = default) =>
        ChangeAsync(id, removesAdmin: true, ct, user =>
        {
            user.DeactivatedAtUtc ??= Now;
            db.Audit(by, "staff", $"deactivated {Redact.Email(user.Email)}", Now);
            return Task.FromResult(StaffChange.Done);
        });

    public Task<StaffChange> ReactivateAsync(string id, string by, CancellationToken ct = default) =>
        ChangeAsync(id, removesAdmin: false, ct, user =>
        {
            user.DeactivatedAtUtc = null;
            db.Audit(by, "staff", $"reactivated {Redact.Email(user.Email)}", Now);
            return Task.FromResult(StaffChange.Done);
        });

    /// <summary>
    /// Two-factor off, a new authenticator key, no recovery codes: the colleague sets it up afresh after signing in.
    /// Refused for an open invitation: it has no 2FA to reset, and Identity's calls renew the security stamp, which
    /// would void the mailed link while the page still says "invitation pending".
    /// </summary>
    public Task<StaffChange> ResetTwoFactorAsync(string id, string by, CancellationToken ct = default) =>
        ChangeAsync(id, removesAdmin: false, ct, async user =>
        {
            if (user.PasswordHash is null) return StaffChange.InvitationPending;
            await users.SetTwoFactorEnabledAsync(user, false);
            await users.ResetAuthenticatorKeyAsync(user);
            await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
            db.Audit(by, "staff", $"reset two-factor sign-in of {Redact.Email(user.Email)}", Now);
            return StaffChange.Done;
        });

    /// <summary>
    /// Locks the staff rows, reads the account afresh, refuses a change that would leave no active admin, applies the
    /// change and a new security stamp, and commits: the check and the change are one step for concurrent requests.
    /// An open invitation keeps its stamp (it has no session to end, and a new stamp would void the mailed link while
    /// the page still says "invitation pending"), except when it is deactivated: that voids the link for good, and a
    /// reactivated invitee gets a new one through "send again".
    /// </summary>
    private async Task<StaffChange> ChangeAsync(string id, bool removesAdmin, CancellationToken ct, Func<StaffUser, Task<StaffChange>> change)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.LockStaffAsync(ct);
        var user = await users.FindByIdAsync(id);
        if (user is null) return StaffChange.NotFound;
        await db.Entry(user).ReloadAsync(ct); // tracked before the lock, it may hold what another request has changed since
        if (removesAdmin && await IsActiveAdminAsync(user) && await ActiveAdminCountAsync(ct) <= 1) return StaffChange.LastAdmin;
        var outcome = await change(user);
        if (outcome != StaffChange.Done) return outcome;
        if (user.PasswordHash is not null || user.DeactivatedAtUtc is not null) await users.UpdateSecurityStampAsync(user); // saves the change with it
        else await users.UpdateAsync(user);
        await transaction.CommitAsync(ct);
        return StaffChange.Done;
    }

    /// <summary>An admin who can sign in (<see cref="ActiveStaff"/>: an open invitation cannot administer anything yet).</summary>
    private async Task<bool> IsActiveAdminAsync(StaffUser user) => user.IsActive() && await users.IsInRoleAsync(user, Roles.Admin);

    private Task<int> ActiveAdminCountAsync(CancellationToken ct) => db.ActiveInRole(Roles.Admin).CountAsync(ct);

    private async Task<bool> NewslettersExistAsync(List<int> ids, CancellationToken ct) =>
        ids.Count == 0 || await db.Newsletters.CountAsync(n => ids.Contains(n.Id), ct) == ids.Count;

    private async Task EnsureRolesAsync()
    {
        foreach (var name in Roles.All)
        {
            if (!await roles.RoleExistsAsync(name)) await roles.CreateAsync(new IdentityRole(name));
        }
    }

    private static string ScopeText(string role, List<int> newsletterIds) =>
        role == Roles.Admin ? "" : $" for newsletters [{string.Join(", ", newsletterIds.Order())}]";

    private DateTime Now => clock.GetUtcNow().UtcDateTime;
}
