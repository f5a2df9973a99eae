using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Refuses passwords that appear in lists of leaked passwords, also dressed up, and the account's own address or its
/// local part (NIST SP 800-63B 5.1.1.2: check against known-compromised values and context-specific words). Before the
/// lookup the password is brought into the list's shape: Unicode NFKC (full-width "Ｐａｓｓｗｏｒｄ" is "Password"),
/// lower case, without whitespace and invisible format characters (category Cf: zero-width space, soft hyphen), then
/// looked up whole and with digits and symbols trimmed from the end, the start and both ("!!password1234").
/// A single character repeated ("aaaaaaaaaaaa") is refused too. No rule on composition: length beats it.
/// The list ships inside the app (common-passwords.txt, from @zxcvbn-ts/language-common 4.1.3, MIT licence; see the
/// file's header), so no lookup leaves the server. Identity runs every registered validator on create, change and
/// reset, so every password form uses it.
/// </summary>
public sealed class CommonPasswordValidator(IStringLocalizer<SharedResource> text) : IPasswordValidator<StaffUser>
{
    private const string ResourceName = "NewsletterMigrator.Staff.common-passwords.txt";
    private static readonly Lazy<FrozenSet<string>> Common = new(Load);

    public Task<IdentityResult> ValidateAsync(UserManager<StaffUser> manager, StaffUser user, string? password)
    {
        if (string.IsNullOrEmpty(password)) return Task.FromResult(IdentityResult.Success); // the length rule answers that
        var whole = Shape(password);
        if (whole.Length > 0 && whole.All(c => c == whole[0]))
            return Failed("PasswordRepeatedCharacter", text["Identity_PasswordRepeatedCharacter"]);
        var candidates = Candidates(whole);
        if (candidates.Any(IsCommon))
            return Failed("PasswordCommon", text["Identity_PasswordCommon"]);
        var email = Shape(user.Email ?? user.UserName ?? "");
        var localPart = email.Split('@')[0];
        if (email.Length > 0 && candidates.Any(c => c == email || c == localPart))
            return Failed("PasswordIsEmail", text["Identity_PasswordIsEmail"]);
        return Task.FromResult(IdentityResult.Success);
    }

    /// <summary>NFKC, lower case, no whitespace, no invisible format characters: what is left to guess.</summary>
    internal static string Shape(string value) =>
        string.Concat(value.Normalize(NormalizationForm.FormKC)
            .Where(c => !char.IsWhiteSpace(c) && char.GetUnicodeCategory(c) != UnicodeCategory.Format)).ToLowerInvariant();

    /// <summary>The shaped password, and with digits and symbols (anything but letters) trimmed at the end, the start, both.</summary>
    private static string[] Candidates(string whole) =>
        [whole, TrimEnd(whole), TrimStart(whole), TrimStart(TrimEnd(whole))];

    private static string TrimEnd(string value)
    {
        var end = value.Length;
        while (end > 0 && !char.IsLetter(value[end - 1])) end--;
        return value[..end];
    }

    private static string TrimStart(string value)
    {
        var start = 0;
        while (start < value.Length && !char.IsLetter(value[start])) start++;
        return value[start..];
    }

    /// <summary>How many passwords the list holds, for the tests.</summary>
    public static int Count => Common.Value.Count;

    private static bool IsCommon(string candidate) => candidate.Length > 0 && Common.Value.Contains(candidate);

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
            if (line.Length > 0 && !line.StartsWith('#')) passwords.Add(Shape(line));
        }
        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }
}
