using System.Collections.Concurrent;

namespace NewsletterMigrator.Data;

/// <summary>
/// A compiled query (EF.CompileAsyncQuery) is bound to the model it first ran with and refuses another one. An app process
/// has one provider, but the test process runs SQLite and PostgreSQL side by side: one compiled query per context type.
/// </summary>
internal sealed class CompiledPerProvider<TQuery>(Func<TQuery> compile) where TQuery : class
{
    private readonly ConcurrentDictionary<Type, TQuery> _byContextType = new();

    public TQuery For(AppDbContext db) => _byContextType.GetOrAdd(db.GetType(), static (_, c) => c(), compile);
}
