using System.Threading.Channels;

namespace AntFlow.Dataflow.Execution;

/// <summary>Streams results in completion order to one reader, with backpressure on the workers.</summary>
internal sealed class ChannelResultSink<T>(int capacity) : ResultSink<T>
{
    private readonly Channel<PipelineResult<T>> _channel = Channel.CreateBounded<PipelineResult<T>>(
        new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ChannelReader<PipelineResult<T>> Reader => _channel.Reader;

    public override ValueTask EmitAsync(PipelineResult<T> result)
    {
        if (_channel.Writer.TryWrite(result))
        {
            return ValueTask.CompletedTask;
        }

        return WriteSlowAsync(result);
    }

    public override void Complete(Exception? error) => _channel.Writer.TryComplete(error);

    /// <summary>The reader has gone away: drop whatever comes next instead of waiting for room.</summary>
    public void Abandon() => _channel.Writer.TryComplete();

    private async ValueTask WriteSlowAsync(PipelineResult<T> result)
    {
        try
        {
            await _channel.Writer.WriteAsync(result).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The consumer stopped reading (it broke out of its loop); the run is being stopped.
        }
    }
}
