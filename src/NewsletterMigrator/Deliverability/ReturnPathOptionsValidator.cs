using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Deliverability;

/// <summary>A return path no server would accept, or one that cannot carry the token, is found at start-up, naming the key.</summary>
public sealed partial class ReturnPathOptionsValidator : IValidateOptions<BouncesOptions>
{
    // Leaves room for "+", the token (up to 39 characters) within the 64 a local part may have.
    private const int MaxLocalPartLength = 24;

    public ValidateOptionsResult Validate(string? name, BouncesOptions o)
    {
        var errors = new List<string>();
        // Dot-atom characters (RFC 5322) without "+", which separates the token.
        if (o.ReturnPathLocalPart is not { Length: > 0 and <= MaxLocalPartLength } local || !LocalPart().IsMatch(local))
            errors.Add($"Bounces:ReturnPathLocalPart must be 1 to {MaxLocalPartLength} characters of letters, digits and !#$%&'*/=?^_`{{|}}~.- without '+' (was '{o.ReturnPathLocalPart}'); '+' separates the token.");
        if (o.VerpEnabled && (Uri.CheckHostName(o.ReturnPathDomain!.Trim()) != UriHostNameType.Dns || !o.ReturnPathDomain.Contains('.')))
            errors.Add($"Bounces:ReturnPathDomain must be a host name such as bounces.portal.example, or empty to keep the sender address as the return path (was '{o.ReturnPathDomain}').");
        if (o.SoftBounceLimit < 1)
            errors.Add($"Bounces:SoftBounceLimit must be 1 or more (was {o.SoftBounceLimit}).");
        if (o.SoftBounceWindow <= TimeSpan.Zero)
            errors.Add($"Bounces:SoftBounceWindow must be positive (was {o.SoftBounceWindow}).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*/=?^_`{|}~-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex LocalPart();
}
