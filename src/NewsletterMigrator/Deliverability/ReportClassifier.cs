using MimeKit;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>Reads what a mail in the bounce mailbox is (issue 16.2): DSN, complaint, unsubscribe, auto-reply or other.</summary>
public static class ReportClassifier
{
    // Placeholder of the base commit: the classifier's engineer replaces it.
    public static ClassifiedReport Classify(MimeMessage message) => new(ReportKind.Unknown);
}
