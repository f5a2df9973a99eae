using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// Versions before issue 18 kept the Data Protection key ring as XML files in the data folder. Taking those keys into
/// the database keeps every signed-in session and open form of an upgraded installation valid, and lets a SQLite
/// installation copied to PostgreSQL carry them along. A key already in the database is left alone; the files stay
/// (a backup taken before the upgrade still restores).
/// </summary>
internal static class KeyRingImport
{
    public static async Task<int> ImportFolderAsync(AppDbContext db, string folder, ILogger logger, CancellationToken ct = default)
    {
        if (!Directory.Exists(folder)) return 0;
        var known = (await db.DataProtectionKeys.Select(k => k.FriendlyName).ToListAsync(ct)).ToHashSet();
        var added = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "*.xml").Order(StringComparer.Ordinal))
        {
            // The file system store names each file after the key's friendly name, as the database store keeps it.
            var name = Path.GetFileNameWithoutExtension(file);
            if (known.Contains(name)) continue;
            var xml = XElement.Load(file, LoadOptions.None).ToString(SaveOptions.DisableFormatting);
            db.DataProtectionKeys.Add(new DataProtectionKey { FriendlyName = name, Xml = xml });
            added++;
        }
        if (added == 0) return 0;
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Took {Keys} Data Protection key(s) from the data folder into the database", added);
        return added;
    }
}
