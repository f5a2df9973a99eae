using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Where bounces of one outbox mail go: its envelope sender (MAIL FROM). Deliverability gives each mail its own
/// (VERP, issue 16.1); Sending owns this interface, as it owns <see cref="IDeliveryOutcomeHandler"/>, so it depends on nothing
/// above it (ARCHITECTURE.md "arrows point down").
/// </summary>
public interface IReturnPaths
{
    /// <summary>The return path address for the row, or null to send with the From address as envelope sender.</summary>
    string? For(OutboundMessage row);
}
