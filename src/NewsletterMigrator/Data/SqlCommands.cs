using System.Data.Common;

namespace NewsletterMigrator.Data;

/// <summary>
/// A raw command on the DbContext's connection for the hot bulk paths (ARCHITECTURE: bulk inserts):
/// its named parameters exist up front, DBNull until set, so one command is reused for every row.
/// </summary>
internal static class SqlCommands
{
    public static DbCommand Create(DbConnection connection, DbTransaction? transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
