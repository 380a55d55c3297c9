using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using AntFlow.Dataflow;

/// <summary>
/// A checkpoint store in a text file, one finished item id per line, so that it survives a process restart.
/// The ids already in the file are loaded when the store is opened; marks are appended and flushed one at a time.
/// </summary>
/// <remarks>
/// Ids are kept as their invariant-culture text, so use ids whose text is unique (the pipeline's default id, the
/// input position, and string keys both qualify). A flush hands the line to the operating system, which is enough
/// to survive a crash of the process; to survive a power cut as well, also force it to disk
/// (<see cref="FileStream.Flush(bool)"/> with <see langword="true"/>) after each write.
/// For a store with transactions and many writers, see the SQLite store in the BatchApi example.
/// </remarks>
internal sealed class FileCheckpointStore : ICheckpointStore, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, bool> _completed;
    private readonly StreamWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1); // one writer at a time: workers mark items concurrently

    private FileCheckpointStore(IEnumerable<string> completed, StreamWriter writer)
    {
        _completed = new ConcurrentDictionary<string, bool>(completed.Select(id => KeyValuePair.Create(id, true)), StringComparer.Ordinal);
        _writer = writer;
    }

    /// <summary>Gets how many items are marked finished.</summary>
    public int Count => _completed.Count;

    /// <summary>Gets the ids marked finished, as text.</summary>
    public IReadOnlyCollection<string> CompletedIds => [.. _completed.Keys];

    /// <summary>Opens (or creates) the checkpoint file at <paramref name="path"/> and loads the ids it holds.</summary>
    public static async Task<FileCheckpointStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        string[] lines = File.Exists(path) ? await File.ReadAllLinesAsync(path, cancellationToken) : [];
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 4096, useAsync: true);

        // A crash in the middle of a write can leave a partial last line; skipping blanks keeps loading simple, and
        // a partial id at worst makes one item run again.
        return new FileCheckpointStore(lines.Where(l => l.Length > 0), new StreamWriter(stream, new UTF8Encoding(false)));
    }

    public ValueTask<bool> IsCompletedAsync(object itemId, CancellationToken cancellationToken = default) =>
        new(_completed.ContainsKey(ToKey(itemId)));

    public async ValueTask MarkCompletedAsync(object itemId, CancellationToken cancellationToken = default)
    {
        string key = ToKey(itemId);
        if (_completed.ContainsKey(key))
        {
            return;
        }

        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (!_completed.ContainsKey(key))
            {
                await _writer.WriteLineAsync(key.AsMemory(), cancellationToken);
                await _writer.FlushAsync(cancellationToken);
                _completed[key] = true; // only once the line is written: a failed write must not count as finished
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync();
        _writeLock.Dispose();
    }

    private static string ToKey(object itemId)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        string key = Convert.ToString(itemId, CultureInfo.InvariantCulture) ?? string.Empty;
        return key.Contains('\n', StringComparison.Ordinal) || key.Contains('\r', StringComparison.Ordinal)
            ? throw new ArgumentException($"The id '{key}' spans several lines; a line-per-id file cannot hold it.", nameof(itemId))
            : key;
    }
}
