using NewsletterMigrator.Data;

namespace NewsletterMigrator.Common;

public static class AuditExtensions
{
    /// <summary>Adds an audit row to the context; it is saved with the change it describes.</summary>
    public static void Audit(this AppDbContext db, string userName, string action, string details, DateTime atUtc) =>
        db.AuditEntries.Add(new AuditEntry { AtUtc = atUtc, UserName = userName, Action = action, Details = details });
}
