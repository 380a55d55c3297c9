using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace BatchApi;

/// <summary>
/// Saves batch results in the SQLite table <c>batch_results</c>, one row per batch (<c>batch_id</c> is the primary
/// key). Saving is an upsert, so saving a batch again replaces its row instead of adding one. Safe to use from
/// several workers at once.
/// </summary>
public sealed class SqliteBatchResultStore : IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS batch_results (
            batch_id      TEXT    NOT NULL PRIMARY KEY,
            remote_id     TEXT    NOT NULL,
            request_count INTEGER NOT NULL,
            results_json  TEXT    NOT NULL,
            completed_at  TEXT,
            saved_at      TEXT    NOT NULL,
            save_count    INTEGER NOT NULL DEFAULT 1
        );
        """;

    private const string Upsert = """
        INSERT INTO batch_results (batch_id, remote_id, request_count, results_json, completed_at, saved_at, save_count)
        VALUES ($batch_id, $remote_id, $request_count, $results_json, $completed_at, $saved_at, 1)
        ON CONFLICT (batch_id) DO UPDATE SET
            remote_id = excluded.remote_id,
            request_count = excluded.request_count,
            results_json = excluded.results_json,
            completed_at = excluded.completed_at,
            saved_at = excluded.saved_at,
            save_count = batch_results.save_count + 1
        RETURNING save_count;
        """;

    private readonly TimeProvider _time;
    private int _disposed;

    private SqliteBatchResultStore(string connectionString, TimeProvider time)
    {
        ConnectionString = connectionString;
        _time = time;
    }

    /// <summary>Gets the connection string of the database.</summary>
    public string ConnectionString { get; }

    /// <summary>Opens the database (creating the file and the table if needed).</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, for example <c>Data Source=batches.db</c>.</param>
    /// <param name="timeProvider">The clock for <c>saved_at</c>; the default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> is null or empty.</exception>
    /// <exception cref="SqliteException">The database cannot be opened or created.</exception>
    public static async Task<SqliteBatchResultStore> OpenAsync(string connectionString, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        await SqliteDatabase.InitializeAsync(connectionString, Schema, cancellationToken).ConfigureAwait(false);
        return new SqliteBatchResultStore(connectionString, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Opens the database file at <paramref name="path"/> (creating it if needed).</summary>
    /// <param name="path">The database file.</param>
    /// <param name="timeProvider">The clock for <c>saved_at</c>; the default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="SqliteException">The database cannot be opened or created.</exception>
    public static Task<SqliteBatchResultStore> OpenFileAsync(string path, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        OpenAsync(SqliteDatabase.ForFile(path), timeProvider, cancellationToken);

    /// <summary>Saves a downloaded batch: inserts its row, or replaces it when the batch was saved before.</summary>
    /// <param name="batch">The batch and its results.</param>
    /// <param name="cancellationToken">Cancels the save before it starts writing.</param>
    /// <returns>The row as saved.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    /// <exception cref="SqliteException">The write failed.</exception>
    public async Task<BatchResultRecord> SaveAsync(DownloadedBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        DateTimeOffset savedAt = _time.GetUtcNow();
        string results = JsonSerializer.Serialize(batch.Outputs, WireJson.Options);
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = Upsert;
                command.Parameters.AddWithValue("$batch_id", batch.Job.BatchId);
                command.Parameters.AddWithValue("$remote_id", batch.Info.Id);
                command.Parameters.AddWithValue("$request_count", batch.Job.Requests.Count);
                command.Parameters.AddWithValue("$results_json", results);
                command.Parameters.AddWithValue("$completed_at", batch.Info.CompletedAt is { } at ? Format(at) : DBNull.Value);
                command.Parameters.AddWithValue("$saved_at", Format(savedAt));

                // Once the write starts it is not cancelled: a cancelled run never leaves half-done work behind.
                object? saveCount = await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false);
                return new BatchResultRecord(
                    batch.Job.BatchId,
                    batch.Info.Id,
                    batch.Job.Requests.Count,
                    batch.Outputs,
                    batch.Info.CompletedAt,
                    savedAt,
                    Convert.ToInt32(saveCount, CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>Reads every row, in <c>batch_id</c> order.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The rows.</returns>
    /// <exception cref="SqliteException">The read failed.</exception>
    public async Task<IReadOnlyList<BatchResultRecord>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<BatchResultRecord>();
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT batch_id, remote_id, request_count, results_json, completed_at, saved_at, save_count FROM batch_results ORDER BY batch_id";
                SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        rows.Add(new BatchResultRecord(
                            reader.GetString(0),
                            reader.GetString(1),
                            reader.GetInt32(2),
                            JsonSerializer.Deserialize<BatchOutput[]>(reader.GetString(3), WireJson.Options) ?? [],
                            reader.IsDBNull(4) ? null : Parse(reader.GetString(4)),
                            Parse(reader.GetString(5)),
                            reader.GetInt32(6)));
                    }
                }
            }
        }

        return rows;
    }

    /// <summary>Counts the rows.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The number of saved batches.</returns>
    /// <exception cref="SqliteException">The query failed.</exception>
    public async Task<int> CountAsync(CancellationToken cancellationToken = default)
    {
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT COUNT(*) FROM batch_results";
                return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Closes the pooled connections to the database.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            SqliteDatabase.ReleasePool(ConnectionString);
        }

        return ValueTask.CompletedTask;
    }

    private static string Format(DateTimeOffset value) => value.ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
