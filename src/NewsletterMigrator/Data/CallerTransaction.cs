using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace NewsletterMigrator.Data;

/// <summary>Work that only means something inside the caller's transaction (a row lock, a bulk write) checks for it here.</summary>
internal static class CallerTransaction
{
    /// <summary>The context's current transaction; without one, throws naming <paramref name="why"/> it is needed.</summary>
    public static DbTransaction RequireTransaction(this AppDbContext db, string why) =>
        db.Database.CurrentTransaction?.GetDbTransaction() ?? throw new InvalidOperationException($"{why}: begin the transaction first.");
}
