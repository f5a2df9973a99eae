using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>A piece of the legal identity a newsletter needs before anything reaches a reader (C38).</summary>
public enum LegalItem
{
    ControllerName,
    ControllerAddress,
    ControllerEmail,
    Impressum,
    PrivacyNoticeUrl,
    PrivacyNoticeVersion,
}

/// <summary>
/// The one place that decides whether a newsletter may go live, or stay live (C38): the controller (legal
/// name, postal address, contact address), the Impressum (text or page) and the privacy notice (URL and
/// version label). Every door to a reader asks here: the sign-up pages, the DOI mail, the invitations
/// (queue, Cloud API, export) and the campaigns, both when they start and when the worker sends.
/// </summary>
public static class LegalReadiness
{
    public static IReadOnlyList<LegalItem> Missing(Newsletter n)
    {
        var missing = new List<LegalItem>();
        if (string.IsNullOrWhiteSpace(n.ControllerName)) missing.Add(LegalItem.ControllerName);
        if (string.IsNullOrWhiteSpace(n.ControllerAddress)) missing.Add(LegalItem.ControllerAddress);
        if (string.IsNullOrWhiteSpace(n.ControllerEmail)) missing.Add(LegalItem.ControllerEmail);
        if (string.IsNullOrWhiteSpace(n.Impressum) && !WebLink.IsValid(n.ImpressumUrl)) missing.Add(LegalItem.Impressum);
        if (!WebLink.IsValid(n.PrivacyNoticeUrl)) missing.Add(LegalItem.PrivacyNoticeUrl);
        if (string.IsNullOrWhiteSpace(n.PrivacyNoticeVersion)) missing.Add(LegalItem.PrivacyNoticeVersion);
        return missing;
    }

    public static bool IsOpen(Newsletter n) => Missing(n).Count == 0;

    /// <summary>The resource key naming an item in the checklist, in the admin's language.</summary>
    public static string ResourceKey(LegalItem item) => "Legal_Missing_" + item;

    /// <summary>The command-line option that sets an item, for the verbs' "what is missing" line.</summary>
    public static string CommandLineOption(LegalItem item) => item switch
    {
        LegalItem.ControllerName or LegalItem.ControllerAddress => "--controller \"<name, address>\"",
        LegalItem.ControllerEmail => "--contact <address>",
        LegalItem.Impressum => "--impressum-url <url> or --impressum-file <file>",
        LegalItem.PrivacyNoticeUrl => "--privacy-url <url>",
        LegalItem.PrivacyNoticeVersion => "--privacy-version <label>",
        _ => item.ToString(),
    };
}

/// <summary>A campaign cannot start or be scheduled while its newsletter's legal identity is incomplete (C38).</summary>
public sealed class LegalIdentityIncompleteException(string slug)
    : InvalidOperationException($"The newsletter '{slug}' is not open yet: its legal identity is incomplete (C38).");
