using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace NewsletterMigrator.Data;

/// <summary>The model on PostgreSQL, with its migrations in Data/Migrations/Postgres.</summary>
public sealed class PostgresAppDbContext(DbContextOptions<PostgresAppDbContext> options) : AppDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder builder)
    {
        base.ConfigureConventions(builder);
        // Every time is stored as UTC (ARCHITECTURE: Data). Npgsql maps DateTime to timestamptz and refuses a value whose
        // Kind is not Utc; SQLite hands back Kind Unspecified, and a value read there or computed from one is still UTC.
        // Marking it so on the way in keeps one meaning on both providers; on the way out Npgsql already says Utc.
        builder.Properties<DateTime>().HaveConversion<UtcKind>();
        builder.Properties<DateTime?>().HaveConversion<UtcKind>();
    }

    private sealed class UtcKind() : ValueConverter<DateTime, DateTime>(
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}

/// <summary>For `dotnet ef migrations add --context PostgresAppDbContext`: builds the model without a server.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresAppDbContext>
{
    public PostgresAppDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAppDbContext>().UseNpgsql("Host=localhost;Database=design_time").Options);
}
