using MimeKit;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// RFC 3464 delivery status notifications (and RFC 6533's message/global-delivery-status): the first field group
/// is about the message, each further one about one recipient (Action, Status, Final-Recipient, Diagnostic-Code).
/// </summary>
internal static class DeliveryStatusReport
{
    /// <summary>The machine-readable status part, wherever the mail's structure puts it (usually in multipart/report).</summary>
    public static MimePart? FindStatusPart(MimeMessage message) =>
        ReportText.Parts(message).OfType<MimePart>().FirstOrDefault(p =>
            ReportText.Is(p, "message", "delivery-status") || ReportText.Is(p, "message", "global-delivery-status"));

    /// <summary>What the report says, or null when its status part names no recipient with an action or status.</summary>
    public static ClassifiedReport? Read(MimePart statusPart)
    {
        var recipients = ReportText.FieldGroups(ReportText.Read(statusPart))
            .Where(g => g.ContainsKey("Final-Recipient") || g.ContainsKey("Original-Recipient") || g.ContainsKey("Action"))
            .ToList();

        // A DSN may list several recipients (one failed, one delivered, one delayed): the failed one is the news.
        var failed = recipients.FirstOrDefault(g => ActionOf(g) == "failed")
            // A report without Action fields (not per the RFC, but seen) counts as failed when its status is permanent.
            ?? recipients.FirstOrDefault(g => ActionOf(g) is null && StatusOf(g)?.StartsWith('5') == true);
        if (failed is not null)
        {
            var diagnostic = DiagnosticOf(failed);
            var code = BounceRules.BestCode(StatusOf(failed), diagnostic);
            return new ClassifiedReport(BounceRules.KindOfFailure(code, diagnostic, StatusOf(failed)), RecipientOf(failed), code, diagnostic);
        }

        var informational = recipients.FirstOrDefault(g => ActionOf(g) is "delayed" or "delivered" or "relayed" or "expanded");
        if (informational is not null)
        {
            var diagnostic = DiagnosticOf(informational);
            return new ClassifiedReport(ReportKind.Delayed, RecipientOf(informational), BounceRules.BestCode(StatusOf(informational), diagnostic), diagnostic);
        }
        return null;
    }

    private static string? ActionOf(Dictionary<string, string> group) =>
        group.TryGetValue("Action", out var action) ? action.Split(' ', ';', '(')[0].Trim().ToLowerInvariant() : null;

    private static string? StatusOf(Dictionary<string, string> group) =>
        group.TryGetValue("Status", out var status) ? status.Trim() : null;

    /// <summary>Final-Recipient (the address that failed), as ClassifiedReport.Recipient documents; Original-Recipient only when it is missing.</summary>
    private static string? RecipientOf(Dictionary<string, string> group) =>
        ReportText.AddressIn(group.GetValueOrDefault("Final-Recipient")) ?? ReportText.AddressIn(group.GetValueOrDefault("Original-Recipient"));

    /// <summary>The server's words without the diagnostic type ("smtp; 550 5.1.1 …" gives "550 5.1.1 …").</summary>
    private static string? DiagnosticOf(Dictionary<string, string> group)
    {
        if (!group.TryGetValue("Diagnostic-Code", out var value)) return null;
        var semicolon = value.IndexOf(';');
        var words = semicolon >= 0 && semicolon < 20 ? value[(semicolon + 1)..] : value;
        return ReportText.OneLine(words);
    }
}
