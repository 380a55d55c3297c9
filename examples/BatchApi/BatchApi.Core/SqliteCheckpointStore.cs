using System.Globalization;
using System.Numerics;
using AntFlow.Dataflow;
using Microsoft.Data.Sqlite;

namespace BatchApi;

/// <summary>
/// An <see cref="ICheckpointStore"/> in a SQLite table (<c>antflow_checkpoints</c>), so a pipeline that is stopped or
/// crashes can be run again and skip the items that already finished. Several pipelines can share one database:
/// each uses its own <see cref="PipelineName"/>. Safe to use from many workers at once.
/// </summary>
/// <remarks>
/// Item ids are stored as text, and compare as the pipeline compares them: strings ordinally, integral numbers by
/// value whatever their type (<c>7</c>, <c>7L</c> and <c>(byte)7</c> are one id), GUIDs by value. Other id types
/// are refused; give the pipeline string ids with <c>WithIdSelector</c>.
/// </remarks>
public sealed class SqliteCheckpointStore : ICheckpointStore, IAsyncDisposable
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS antflow_checkpoints (
            pipeline     TEXT NOT NULL,
            item_key     TEXT NOT NULL,
            completed_at TEXT NOT NULL,
            PRIMARY KEY (pipeline, item_key)
        );
        """;

    private readonly TimeProvider _time;
    private int _disposed;

    private SqliteCheckpointStore(string connectionString, string pipelineName, TimeProvider time)
    {
        ConnectionString = connectionString;
        PipelineName = pipelineName;
        _time = time;
    }

    /// <summary>Gets the connection string of the database.</summary>
    public string ConnectionString { get; }

    /// <summary>Gets the name that keeps this pipeline's marks apart from other pipelines' in the same database.</summary>
    public string PipelineName { get; }

    /// <summary>Opens the database (creating the file and the table if needed).</summary>
    /// <param name="connectionString">A Microsoft.Data.Sqlite connection string, for example <c>Data Source=batches.db</c>.</param>
    /// <param name="pipelineName">The name of the pipeline whose marks this store reads and writes.</param>
    /// <param name="timeProvider">The clock for <c>completed_at</c>; the default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="connectionString"/> or <paramref name="pipelineName"/> is null or empty.</exception>
    /// <exception cref="SqliteException">The database cannot be opened or created.</exception>
    public static async Task<SqliteCheckpointStore> OpenAsync(string connectionString, string pipelineName = "default", TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(pipelineName);
        await SqliteDatabase.InitializeAsync(connectionString, Schema, cancellationToken).ConfigureAwait(false);
        return new SqliteCheckpointStore(connectionString, pipelineName, timeProvider ?? TimeProvider.System);
    }

    /// <summary>Opens the database file at <paramref name="path"/> (creating it if needed).</summary>
    /// <param name="path">The database file.</param>
    /// <param name="pipelineName">The name of the pipeline whose marks this store reads and writes.</param>
    /// <param name="timeProvider">The clock for <c>completed_at</c>; the default is <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> or <paramref name="pipelineName"/> is null or empty.</exception>
    /// <exception cref="SqliteException">The database cannot be opened or created.</exception>
    public static Task<SqliteCheckpointStore> OpenFileAsync(string path, string pipelineName = "default", TimeProvider? timeProvider = null, CancellationToken cancellationToken = default) =>
        OpenAsync(SqliteDatabase.ForFile(path), pipelineName, timeProvider, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="itemId"/> is not a string, an integral number or a GUID.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public async ValueTask<bool> IsCompletedAsync(object itemId, CancellationToken cancellationToken = default)
    {
        string key = KeyOf(itemId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT 1 FROM antflow_checkpoints WHERE pipeline = $pipeline AND item_key = $key";
                command.Parameters.AddWithValue("$pipeline", PipelineName);
                command.Parameters.AddWithValue("$key", key);
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="itemId"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="itemId"/> is not a string, an integral number or a GUID.</exception>
    /// <exception cref="ObjectDisposedException">The store is disposed.</exception>
    public async ValueTask MarkCompletedAsync(object itemId, CancellationToken cancellationToken = default)
    {
        string key = KeyOf(itemId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                // Marking twice keeps the first time: the mark says when the item first finished.
                command.CommandText = "INSERT INTO antflow_checkpoints (pipeline, item_key, completed_at) VALUES ($pipeline, $key, $at) ON CONFLICT DO NOTHING";
                command.Parameters.AddWithValue("$pipeline", PipelineName);
                command.Parameters.AddWithValue("$key", key);
                command.Parameters.AddWithValue("$at", _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture));
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts this pipeline's finished items.</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The number of marks.</returns>
    /// <exception cref="SqliteException">The query failed.</exception>
    public async Task<int> CountAsync(CancellationToken cancellationToken = default)
    {
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "SELECT COUNT(*) FROM antflow_checkpoints WHERE pipeline = $pipeline";
                command.Parameters.AddWithValue("$pipeline", PipelineName);
                return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>Forgets this pipeline's marks, so the next run processes every item again.</summary>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <returns>A task that completes when the marks are gone.</returns>
    /// <exception cref="SqliteException">The delete failed.</exception>
    public async Task ClearAsync(CancellationToken cancellationToken = default)
    {
        SqliteConnection connection = await SqliteDatabase.OpenAsync(ConnectionString, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            SqliteCommand command = connection.CreateCommand();
            await using (command.ConfigureAwait(false))
            {
                command.CommandText = "DELETE FROM antflow_checkpoints WHERE pipeline = $pipeline";
                command.Parameters.AddWithValue("$pipeline", PipelineName);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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

    /// <summary>The text an id is stored as; equal ids (as the pipeline compares them) get equal text.</summary>
    private static string KeyOf(object itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        return itemId switch
        {
            string s => "s:" + s,
            Guid g => "g:" + g.ToString("D"),
            sbyte or byte or short or ushort or int or uint or long or ulong or nint or nuint or Int128 or UInt128 or BigInteger =>
                "i:" + ((IFormattable)itemId).ToString(null, CultureInfo.InvariantCulture),
            _ => throw new ArgumentException(
                $"Item ids of type {itemId.GetType().Name} cannot be stored; use strings, integral numbers or GUIDs (WithIdSelector).", nameof(itemId)),
        };
    }
}
