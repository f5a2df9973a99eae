using NewsletterMigrator.Data;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// ARCHITECTURE "one owner per record kind" and "arrows point down" (issue 18.3): each of these was written in several
/// places once, and the provider-specific SQL of issue 18 is small only while it stays in one. Read from the sources,
/// because what is checked is where code is written, not what it does (the behaviour has its own tests).
/// </summary>
public sealed partial class OneOwnerTests
{
    private static readonly string Source = Path.Combine(AppFactory.RepositoryRoot(), "src", "NewsletterMigrator");

    /// <summary>Every C# file of the app but the generated migrations, with its path from the project folder.</summary>
    private static IEnumerable<(string Path, string Text)> Files(string folder = "") =>
        Directory.EnumerateFiles(Path.Combine(Source, folder), "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Source, f).Replace('\\', '/'))
            .Where(f => !f.StartsWith("Data/Migrations/", StringComparison.Ordinal) && !f.StartsWith("obj/", StringComparison.Ordinal)
                        && !f.StartsWith("bin/", StringComparison.Ordinal))
            .Select(f => (f, File.ReadAllText(Path.Combine(Source, f))));

    private static List<string> Writers(Regex pattern, string owner) =>
        Files().Where(f => f.Path != owner && pattern.IsMatch(f.Text)).Select(f => f.Path).ToList();

    [Fact]
    public void Only_the_consent_ledger_writes_consent_events_C7()
    {
        Assert.Empty(Writers(ConsentEventWrite(), "Consent/ConsentLedger.cs"));
        Assert.Contains(Files("Consent"), f => f.Path == "Consent/ConsentLedger.cs" && ConsentEventWrite().IsMatch(f.Text));
    }

    [Fact]
    public void Only_the_outbox_cancels_pending_mail_C13() =>
        Assert.Empty(Writers(CancelsMail(), "Sending/Outbox.cs"));

    [Fact]
    public void Only_MessageIds_makes_an_outbox_Message_ID() =>
        Assert.Empty(Writers(MakesMessageId(), "Data/MessageIds.cs"));

    [Fact]
    public void A_Message_ID_made_by_the_bulk_SQL_has_the_shape_of_one_made_in_code_C23()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT " + MessageIds.SqliteSql("$host");
        command.Parameters.AddWithValue("$host", "zeitung.example.test");
        var fromSql = (string)command.ExecuteScalar()!;
        var fromCode = MessageIds.New("zeitung.example.test");

        Assert.Matches(MessageIdShape(), fromCode);
        Assert.Matches(MessageIdShape(), fromSql);
        Assert.NotEqual(fromSql, (string)command.ExecuteScalar()!);
    }

    [Fact]
    public void Sending_uses_nothing_of_Campaigns_Consent_or_Subscribers()
    {
        // "Arrows point down": Sending reports outcomes through interfaces it owns; the features implement them.
        var reaching = Files("Sending").Where(f => FeatureReference().IsMatch(f.Text))
            .Select(f => $"{f.Path}: {FeatureReference().Match(f.Text).Value}").ToList();
        Assert.Empty(reaching);
    }

    [GeneratedRegex(@"new\s+ConsentEvent\s*[({]|ConsentEvents\s*\.\s*Add")]
    private static partial Regex ConsentEventWrite();

    [GeneratedRegex(@"SetProperty\(\s*\w+\s*=>\s*\w+\.Status\s*,\s*MessageStatus\.Cancelled\s*\)")]
    private static partial Regex CancelsMail();

    [GeneratedRegex(@"randomblob|NewGuid\(\)\s*:\s*N\}@|MessageId\s*=\s*\$")]
    private static partial Regex MakesMessageId();

    [GeneratedRegex(@"^[0-9a-f]{32}@zeitung\.example\.test$")]
    private static partial Regex MessageIdShape();

    // A using directive, or a name qualified by the feature's namespace (Consent.SignUpService), but not a DbSet (db.Campaigns).
    [GeneratedRegex(@"using\s+NewsletterMigrator\.(Campaigns|Consent|Subscribers)\s*;|(?<![\w.])(NewsletterMigrator\.)?(Campaigns|Consent|Subscribers)\.[A-Z]\w*")]
    private static partial Regex FeatureReference();
}
