using Microsoft.EntityFrameworkCore;

namespace NewsletterMigrator.Data;

/// <summary>
/// A key for the REST API under /api/v1 (issue 19). Only the SHA-256 of the secret is stored: the key is 32 random bytes,
/// so a plain hash cannot be reversed by guessing, and a leaked database opens no API. The secret is shown once.
/// </summary>
public sealed class ApiKey
{
    public int Id { get; set; }
    /// <summary>Unique; the audit log names the key as "api:&lt;name&gt;".</summary>
    public required string Name { get; set; }
    /// <summary>The start of the key (e.g. "nmk_Ab12Cd34"), shown in lists so a person can tell keys apart; not secret.</summary>
    public required string Prefix { get; set; }
    /// <summary>SHA-256 of the whole key as given in the Authorization header.</summary>
    public required byte[] SecretHash { get; set; }
    /// <summary>Space-separated scopes (<c>campaigns:write stats:read</c>).</summary>
    public string Scopes { get; set; } = "";
    /// <summary>Null: no end. Otherwise the key stops working at this instant.</summary>
    public DateTime? ExpiresAtUtc { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
    public DateTime? RevokedAtUtc { get; set; }
    public string? RevokedBy { get; set; }
    /// <summary>Written at most once a minute per key, not on every request.</summary>
    public DateTime? LastUsedAtUtc { get; set; }
    /// <summary>The newsletters the key is restricted to; none: every newsletter.</summary>
    public List<ApiKeyNewsletter> Newsletters { get; set; } = [];
}

/// <summary>One newsletter an API key may act on; the row goes with the key and with the newsletter.</summary>
public sealed class ApiKeyNewsletter
{
    public int ApiKeyId { get; set; }
    public int NewsletterId { get; set; }
}

public static class ApiKeyModel
{
    public static void ConfigureApiKeys(ModelBuilder builder)
    {
        builder.Entity<ApiKey>(e =>
        {
            e.HasIndex(k => k.Name).IsUnique();
            // Every API request finds its key by this hash.
            e.HasIndex(k => k.SecretHash).IsUnique();
            e.Property(k => k.Name).HasMaxLength(100);
            e.Property(k => k.Prefix).HasMaxLength(20);
            e.Property(k => k.Scopes).HasMaxLength(500);
            e.Property(k => k.CreatedBy).HasMaxLength(256);
            e.Property(k => k.RevokedBy).HasMaxLength(256);
            e.HasMany(k => k.Newsletters).WithOne().HasForeignKey(n => n.ApiKeyId).OnDelete(DeleteBehavior.Cascade);
        });
        builder.Entity<ApiKeyNewsletter>(e =>
        {
            e.HasKey(x => new { x.ApiKeyId, x.NewsletterId });
            e.HasIndex(x => x.NewsletterId);
            e.HasOne<Newsletter>().WithMany().HasForeignKey(x => x.NewsletterId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}
