using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow;

/// <summary>
/// A buffer that behaves like <see cref="BufferBlock{T}"/> except for order: the item with the lowest
/// priority value is offered and received first, and items with equal priority keep their arrival order.
/// </summary>
/// <typeparam name="T">Specifies the type of the data buffered by this block.</typeparam>
/// <remarks>
/// <para>
/// The order holds whatever the interleaving of producers and also when a linked target postponed an
/// offer because it was full: when it comes back for that offer, it gets the item that is best at that
/// moment (a more urgent item that arrived meanwhile is handed out first), never a stale one.
/// </para>
/// <para>
/// Everything else follows <see cref="BufferBlock{T}"/>: <see cref="DataflowBlockOptions.BoundedCapacity"/>
/// (offers from sources are postponed when full and taken later, most urgent first; <c>Post</c> returns
/// <see langword="false"/>), <see cref="DataflowBlockOptions.CancellationToken"/>, reservations, links with
/// <see cref="DataflowLinkOptions"/> and predicates, <see cref="TryReceive"/>, <see cref="TryReceiveAll"/>,
/// <see cref="Complete"/> and <see cref="IDataflowBlock.Fault"/>. As with <see cref="BufferBlock{T}"/>, only the
/// best item is offered: if no linked target (or predicate) takes it, the items behind it wait too.
/// </para>
/// <para>
/// Adding or taking an item costs O(log k), k being the number of distinct priorities currently buffered
/// (at most the number of items); items of one priority are kept in a FIFO ring.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var buffer = new PriorityBufferBlock&lt;Job&gt;(job =&gt; job.Priority, new DataflowBlockOptions { BoundedCapacity = 100 });
/// buffer.LinkTo(worker, new DataflowLinkOptions { PropagateCompletion = true });
/// await buffer.SendAsync(new Job("urgent", Priority: 0));
/// </code>
/// </example>
[DebuggerDisplay("{DebuggerDisplayContent,nq}")]
public sealed class PriorityBufferBlock<T> : IPropagatorBlock<T, T>, IReceivableSourceBlock<T>
{
    private readonly PriorityBufferCore<T> _core;

    /// <summary>Initializes a new unbounded <see cref="PriorityBufferBlock{T}"/> with default options.</summary>
    /// <param name="prioritySelector">
    /// Returns an item's priority; lower values are served first. It is called once per offered item,
    /// outside the block's lock; an exception it throws propagates to the caller that offered the item.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="prioritySelector"/> is <see langword="null"/>.</exception>
    public PriorityBufferBlock(Func<T, int> prioritySelector)
        : this(prioritySelector, new DataflowBlockOptions())
    {
    }

    /// <summary>Initializes a new <see cref="PriorityBufferBlock{T}"/> with the specified options.</summary>
    /// <param name="prioritySelector">
    /// Returns an item's priority; lower values are served first. It is called once per offered item,
    /// outside the block's lock; an exception it throws propagates to the caller that offered the item.
    /// </param>
    /// <param name="options">
    /// The options for this block. They are copied, so later changes to <paramref name="options"/> have no effect.
    /// </param>
    /// <exception cref="ArgumentNullException">
    /// <paramref name="prioritySelector"/> or <paramref name="options"/> is <see langword="null"/>.
    /// </exception>
    public PriorityBufferBlock(Func<T, int> prioritySelector, DataflowBlockOptions options)
        : this(prioritySelector, options, offerOnConsumingThread: false)
    {
    }

    /// <param name="prioritySelector">Returns an item's priority.</param>
    /// <param name="options">The block's options.</param>
    /// <param name="offerOnConsumingThread">
    /// Whether a target consuming a postponed offer gets the next offer on its own thread rather than from a new task.
    /// Only for a block whose targets consume postponed (or reserved) offers outside their own locks, as the runtime's
    /// execution blocks do. Those inline offers run on the consumer's thread, not on the options' TaskScheduler.
    /// </param>
    internal PriorityBufferBlock(Func<T, int> prioritySelector, DataflowBlockOptions options, bool offerOnConsumingThread)
    {
        ArgumentNullException.ThrowIfNull(prioritySelector);
        ArgumentNullException.ThrowIfNull(options);
        var copy = new DataflowBlockOptions
        {
            TaskScheduler = options.TaskScheduler,
            CancellationToken = options.CancellationToken,
            MaxMessagesPerTask = options.MaxMessagesPerTask,
            BoundedCapacity = options.BoundedCapacity,
            NameFormat = options.NameFormat,
            EnsureOrdered = options.EnsureOrdered,
        };
        _core = new PriorityBufferCore<T>(this, prioritySelector, copy, offerOnConsumingThread);
    }

    /// <summary>Gets the number of items waiting in the buffer, including one reserved by a target.</summary>
    /// <value>The number of buffered items.</value>
    public int Count => _core.Count;

    /// <summary>
    /// Gets a task that completes when the block has completed: after <see cref="Complete"/> once every
    /// buffered item has been taken, or at once (dropping buffered items) after a fault or cancellation.
    /// </summary>
    /// <value>The completion task.</value>
    public Task Completion => _core.Completion;

    private string DebuggerDisplayContent =>
        $"{this}, Count = {_core.CountForDebugger}, IsCompleted = {Completion.IsCompleted}";

    /// <summary>
    /// Signals that no more items will be offered: further offers are declined permanently, producers
    /// waiting on a postponed offer are released, and the block completes once the buffer is empty.
    /// </summary>
    public void Complete() => _core.Complete(exception: null);

    /// <summary>Faults the block: buffered items are dropped and <see cref="Completion"/> ends faulted.</summary>
    /// <param name="exception">The exception that caused the fault.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    void IDataflowBlock.Fault(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        _core.Complete(exception);
    }

    /// <summary>Links this block to a target; the best buffered item is offered to targets in link order.</summary>
    /// <param name="target">The target to link to.</param>
    /// <param name="linkOptions">How the link behaves (completion propagation, message limit, order among links).</param>
    /// <returns>A handle that unlinks when disposed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> or <paramref name="linkOptions"/> is <see langword="null"/>.</exception>
    public IDisposable LinkTo(ITargetBlock<T> target, DataflowLinkOptions linkOptions) => _core.LinkTo(target, linkOptions);

    /// <summary>Takes the best buffered item if there is one and it passes <paramref name="filter"/>.</summary>
    /// <param name="filter">A test the best item must pass, or <see langword="null"/> to take it unconditionally.</param>
    /// <param name="item">The item taken, or the default value when none was.</param>
    /// <returns><see langword="true"/> if an item was taken; otherwise <see langword="false"/>.</returns>
    public bool TryReceive(Predicate<T>? filter, [MaybeNullWhen(false)] out T item) => _core.TryReceive(filter, out item);

    /// <summary>Takes every buffered item, best first.</summary>
    /// <param name="items">The items taken, in priority order, or <see langword="null"/> when none were.</param>
    /// <returns><see langword="true"/> if at least one item was taken; otherwise <see langword="false"/>.</returns>
    public bool TryReceiveAll([NotNullWhen(true)] out IList<T>? items) => _core.TryReceiveAll(out items);

    /// <summary>Returns the block's name, formatted with <see cref="DataflowBlockOptions.NameFormat"/>.</summary>
    /// <returns>The block's name.</returns>
    public override string ToString()
    {
        try
        {
            return string.Format(CultureInfo.InvariantCulture, _core.Options.NameFormat, GetType().Name, Completion.Id);
        }
        catch (FormatException exception)
        {
            return exception.Message;
        }
    }

    /// <inheritdoc/>
    DataflowMessageStatus ITargetBlock<T>.OfferMessage(DataflowMessageHeader messageHeader, T messageValue, ISourceBlock<T>? source, bool consumeToAccept) =>
        _core.OfferMessage(messageHeader, messageValue, source, consumeToAccept);

    /// <inheritdoc/>
    T? ISourceBlock<T>.ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<T> target, out bool messageConsumed) =>
        _core.ConsumeMessage(messageHeader, target, out messageConsumed);

    /// <inheritdoc/>
    bool ISourceBlock<T>.ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<T> target) =>
        _core.ReserveMessage(messageHeader, target);

    /// <inheritdoc/>
    void ISourceBlock<T>.ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<T> target) =>
        _core.ReleaseReservation(messageHeader, target);
}
