using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Localization;

namespace NewsletterMigrator.Staff;

/// <summary>Identity's messages in the staff member's language (German by default) instead of its built-in English.</summary>
public sealed class LocalizedIdentityErrors(IStringLocalizer<SharedResource> text) : IdentityErrorDescriber
{
    public override IdentityError PasswordTooShort(int length) => Error(nameof(PasswordTooShort), text["Identity_PasswordTooShort", length]);
    public override IdentityError PasswordRequiresLower() => Error(nameof(PasswordRequiresLower), text["Identity_PasswordRequiresLower"]);
    public override IdentityError PasswordRequiresUniqueChars(int uniqueChars) => Error(nameof(PasswordRequiresUniqueChars), text["Identity_PasswordRequiresUniqueChars", uniqueChars]);
    public override IdentityError DuplicateEmail(string email) => Error(nameof(DuplicateEmail), text["Identity_DuplicateEmail"]);
    public override IdentityError DuplicateUserName(string userName) => Error(nameof(DuplicateUserName), text["Identity_DuplicateEmail"]);
    public override IdentityError InvalidEmail(string? email) => Error(nameof(InvalidEmail), text["SignUp_EmailInvalid"]);
    public override IdentityError InvalidUserName(string? userName) => Error(nameof(InvalidUserName), text["SignUp_EmailInvalid"]);
    // Races and stale forms (a double submit, two tabs, a link used twice) answer with these: the user's language too.
    public override IdentityError ConcurrencyFailure() => Error(nameof(ConcurrencyFailure), text["Identity_ConcurrencyFailure"]);
    public override IdentityError UserAlreadyHasPassword() => Error(nameof(UserAlreadyHasPassword), text["Identity_UserAlreadyHasPassword"]);
    public override IdentityError PasswordMismatch() => Error(nameof(PasswordMismatch), text["Identity_PasswordMismatch"]);
    public override IdentityError InvalidToken() => Error(nameof(InvalidToken), text["Identity_InvalidToken"]);
    public override IdentityError DefaultError() => Error(nameof(DefaultError), text["Error_Text"]);

    private static IdentityError Error(string code, string description) => new() { Code = code, Description = description };
}
