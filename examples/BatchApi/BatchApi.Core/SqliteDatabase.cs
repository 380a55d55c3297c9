using Microsoft.Data.Sqlite;

namespace BatchApi;

/// <summary>Opening connections the same way for every store that shares a database file.</summary>
internal static class SqliteDatabase
{
    /// <summary>Opens a (pooled) connection. Writers wait for each other instead of failing with "database is locked".</summary>
    public static async Task<SqliteConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Turns on write-ahead logging (readers do not block the writer) and runs <paramref name="schema"/>.</summary>
    public static async Task InitializeAsync(string connectionString, string schema, CancellationToken cancellationToken)
    {
        SqliteConnection connection = await OpenAsync(connectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                // WAL survives a crash of the process at any point; synchronous=NORMAL only risks the last commits on power loss.
                command.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; " + schema;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Closes the pooled connections of this database, so the file can be moved or deleted.</summary>
    public static void ReleasePool(string connectionString)
    {
        using var connection = new SqliteConnection(connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>The connection string for a database file.</summary>
    public static string ForFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
    }
}
