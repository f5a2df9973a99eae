using System.Reflection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// A test that runs once per database provider: <c>[ProviderTheory, DatabaseProviders]</c> on a method whose one parameter
/// is the <see cref="DatabaseProvider"/> to give the <see cref="AppFactory"/>. Where PostgreSQL is not installed its run is
/// skipped with the reason shown, unless REQUIRE_POSTGRES=1 (as in CI): then it runs and fails, so CI never skips it silently.
/// </summary>
[XunitTestCaseDiscoverer("NewsletterMigrator.Tests.Data.ProviderTheoryDiscoverer", "NewsletterMigrator.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProviderTheoryAttribute : TheoryAttribute;

/// <summary>The rows of a <see cref="ProviderTheoryAttribute"/>: every provider the app supports.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class DatabaseProvidersAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => Enum.GetValues<DatabaseProvider>().Select(p => new object[] { p });
}

public sealed class ProviderTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
        dataRow is [DatabaseProvider.Postgres, ..] && !TestPostgres.Required && TestPostgres.MissingReason is { } reason
            ? CreateTestCasesForSkippedDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow,
                $"{reason}; set REQUIRE_POSTGRES=1 to make this a failure.")
            : base.CreateTestCasesForDataRow(discoveryOptions, testMethod, theoryAttribute, dataRow);
}

/// <summary>A test of what only PostgreSQL offers (several instances on one database); skipped like the PostgreSQL row above.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (TestPostgres.Required) return;
        if (TestPostgres.MissingReason is { } reason) Skip = $"{reason}; set REQUIRE_POSTGRES=1 to make this a failure.";
    }
}
