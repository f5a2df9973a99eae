using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Staff;

/// <summary>
/// The sender of the mails to staff (invitations, password reset links). Section <c>Staff</c>. Staff mails belong
/// to no newsletter, so without <see cref="MailFrom"/> they go out from the first newsletter's sender address, and
/// before any newsletter exists from noreply@ the host of App:PublicBaseUrl.
/// </summary>
public sealed class StaffMailOptions
{
    public const string Section = "Staff";

    public string? MailFrom { get; set; }

    /// <summary>The display name beside the address.</summary>
    public string MailFromName { get; set; } = "NewsletterMigrator";
}

public sealed class StaffMailOptionsValidator : IValidateOptions<StaffMailOptions>
{
    public ValidateOptionsResult Validate(string? name, StaffMailOptions o)
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(o.MailFrom) && !EmailAddress.TryNormalize(o.MailFrom, out _))
            errors.Add($"Staff:MailFrom must be a mail address such as team@example.org (was '{o.MailFrom}').");
        if (o.MailFromName.Length > 200 || o.MailFromName.Any(char.IsControl))
            errors.Add("Staff:MailFromName must be at most 200 characters without line breaks.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
