using System.Threading.Channels;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

public enum PasswordLinkOutcome { Done, InvalidLink, PasswordsDiffer, PasswordRefused }

/// <summary>What setting a password through a link did; <see cref="Errors"/> says why Identity refused the password.</summary>
public sealed record PasswordLinkResult(PasswordLinkOutcome Outcome, IReadOnlyList<string>? Errors = null);

/// <summary>
/// The two links that set a password: the invitation (first password, <see cref="InvitationTokenProvider"/>) and the reset
/// by mail (<see cref="PasswordResetTokenProvider"/>). An expired, used or forged link, or one of a deactivated account,
/// is one answer (<see cref="PasswordLinkOutcome.InvalidLink"/>) and changes nothing. Setting the password renews the
/// security stamp, so the link works once and every other session of the account ends.
/// </summary>
public sealed class StaffPasswordLinks(UserManager<StaffUser> users, AppDbContext db, TimeProvider clock)
{
    /// <summary>The invitee, when the invitation link is valid now.</summary>
    public async Task<StaffUser?> InvitationAsync(string? userId, string? token)
    {
        if (await UserAsync(userId, token) is not { PasswordHash: null } user) return null;
        return await users.VerifyUserTokenAsync(user, InvitationTokenProvider.Name, InvitationTokenProvider.Purpose, token!) ? user : null;
    }

    public async Task<PasswordLinkResult> AcceptInvitationAsync(string? userId, string? token, string? password, string? confirmation)
    {
        if (await InvitationAsync(userId, token) is not { } user) return new(PasswordLinkOutcome.InvalidLink);
        if (password != confirmation) return new(PasswordLinkOutcome.PasswordsDiffer);
        user.EmailConfirmed = true; // the link reached the address
        // The same link used twice at once: both requests read the account without a password, so AddPasswordAsync's own
        // check passes in both; the later save fails on the account's concurrency stamp (ConcurrencyFailure, in the
        // member's language: LocalizedIdentityErrors).
        var result = await users.AddPasswordAsync(user, password ?? "");
        if (!result.Succeeded) return Refused(result);
        db.Audit(user.Email ?? "", "staff", $"{Redact.Email(user.Email)} accepted the invitation and set a password", Now);
        await db.SaveChangesAsync();
        return new(PasswordLinkOutcome.Done);
    }

    /// <summary>The account, when the reset link is valid now.</summary>
    public async Task<StaffUser?> ResetAsync(string? userId, string? token)
    {
        if (await UserAsync(userId, token) is not { PasswordHash: not null } user) return null;
        return await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<StaffUser>.ResetPasswordTokenPurpose, token!)
            ? user : null;
    }

    public async Task<PasswordLinkResult> ResetPasswordAsync(string? userId, string? token, string? password, string? confirmation)
    {
        if (await ResetAsync(userId, token) is not { } user) return new(PasswordLinkOutcome.InvalidLink);
        if (password != confirmation) return new(PasswordLinkOutcome.PasswordsDiffer);
        var result = await users.ResetPasswordAsync(user, token!, password ?? "");
        if (!result.Succeeded) return Refused(result);
        // Whoever holds the mailbox may sign in at once, also after someone else's failed guesses locked the account.
        await users.ResetAccessFailedCountAsync(user);
        await users.SetLockoutEndDateAsync(user, null);
        db.Audit(user.Email ?? "", "staff", $"{Redact.Email(user.Email)} set a new password through a reset link", Now);
        await db.SaveChangesAsync();
        return new(PasswordLinkOutcome.Done);
    }

    private async Task<StaffUser?> UserAsync(string? userId, string? token)
    {
        if (string.IsNullOrEmpty(userId) || string.IsNullOrEmpty(token) || token.Length > 2000) return null;
        var user = await users.FindByIdAsync(userId);
        return user is { DeactivatedAtUtc: null } ? user : null;
    }

    private static PasswordLinkResult Refused(IdentityResult result) =>
        new(PasswordLinkOutcome.PasswordRefused, [.. result.Errors.Select(e => e.Description)]);

    private DateTime Now => clock.GetUtcNow().UtcDateTime;
}

/// <summary>
/// "Forgot password": the page only hands the address to this queue and answers at once, the same for every address,
/// so neither the answer nor its timing says whether an account exists. The mail goes out here, in the background,
/// to an active account with a password only. The queue is bounded: a flood past the per-IP limit is dropped, not stored.
/// </summary>
public sealed class PasswordResetMailer(IServiceScopeFactory scopes, IOptions<AppOptions> app, ILogger<PasswordResetMailer> logger) : BackgroundService
{
    private readonly Channel<string> _requests = Channel.CreateBounded<string>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Request(string email) => _requests.Writer.TryWrite(email);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var email in _requests.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await SendAsync(email, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Password reset mail to {Recipient} failed", Redact.Email(email));
            }
        }
    }

    private async Task SendAsync(string email, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        if (await users.FindByEmailAsync(email) is not { } user || !user.IsActive()) return; // ActiveStaff: no reset for an open invitation
        var token = await users.GeneratePasswordResetTokenAsync(user);
        var link = app.Value.Link($"account/reset-password?user={Uri.EscapeDataString(user.Id)}&token={token}");
        if (!await scope.ServiceProvider.GetRequiredService<StaffMail>().SendPasswordResetAsync(user, link, ct)) return;
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Audit(email, "staff", $"password reset link mailed to {Redact.Email(email)}", scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync(ct);
    }
}
