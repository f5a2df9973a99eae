using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Refuses passwords that appear in lists of leaked passwords, alone or with digits and symbols appended
/// ("qwertyuiop123!"), and the account's own address or its local part (NIST SP 800-63B 5.1.1.2: check against
/// known-compromised values and context-specific words). The list ships inside the app (common-passwords.txt,
/// from @zxcvbn-ts/language-common 4.1.3, MIT licence; see the file's header), so no lookup leaves the server.
/// Identity runs every registered validator on create, change and reset, so every password form uses it.
/// </summary>
public sealed class CommonPasswordValidator(IStringLocalizer<SharedResource> text) : IPasswordValidator<StaffUser>
{
    private const string ResourceName = "NewsletterMigrator.Staff.common-passwords.txt";
    private static readonly Lazy<FrozenSet<string>> Common = new(Load);

    public Task<IdentityResult> ValidateAsync(UserManager<StaffUser> manager, StaffUser user, string? password)
    {
        if (string.IsNullOrEmpty(password)) return Task.FromResult(IdentityResult.Success); // the length rule answers that
        var whole = password.Trim().ToLowerInvariant();
        var stem = whole.TrimEnd(Appendix);
        if (IsCommon(whole) || IsCommon(stem))
            return Failed("PasswordCommon", text["Identity_PasswordCommon"]);
        var email = (user.Email ?? user.UserName ?? "").Trim().ToLowerInvariant();
        var localPart = email.Split('@')[0];
        if (email.Length > 0 && (whole == email || stem == email || whole == localPart || stem == localPart))
            return Failed("PasswordIsEmail", text["Identity_PasswordIsEmail"]);
        return Task.FromResult(IdentityResult.Success);
    }

    /// <summary>How many passwords the list holds, for the tests.</summary>
    public static int Count => Common.Value.Count;

    private static bool IsCommon(string candidate) => candidate.Length > 0 && Common.Value.Contains(candidate);

    private static readonly char[] Appendix = [.. "0123456789!?.,;:-_+*#@$%&/ "];

    private static Task<IdentityResult> Failed(string code, string description) =>
        Task.FromResult(IdentityResult.Failed(new IdentityError { Code = code, Description = description }));

    private static FrozenSet<string> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var reader = new StreamReader(stream);
        var passwords = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#')) passwords.Add(line.Trim().ToLowerInvariant());
        }
        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }
}
