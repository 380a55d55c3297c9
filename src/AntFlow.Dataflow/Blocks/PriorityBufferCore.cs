// Lock ordering
// -------------
// _lock is a leaf lock. While it is held this type never runs code it does not own: no linked
// target, no upstream source, no priority selector, no receive filter, no task scheduler and no
// task continuation. Targets call ConsumeMessage/ReserveMessage while holding their own locks
// (the runtime's TargetCore consumes under its incoming lock), so offering to a target under _lock
// could deadlock against it. Offers are therefore made outside the lock with consumeToAccept: true,
// and every consumption re-validates the message id under _lock. Work decided under the lock
// (start a loop, release postponed offers, complete) is returned as PendingWork and run once the
// lock is released.
//
// One exception, only for the pipeline's stage queues (offerOnConsumingThread): when a target consumes an offer
// it had postponed, the next offer is made on the consuming thread, after _lock is released. That is safe only
// because the stage's TransformBlock consumes postponed offers outside its own lock; an arbitrary target may not,
// so a block created through the public constructors always offers from its own task.
//
// Message ids
// -----------
// A message id is the arrival sequence number of one item, and ConsumeMessage/ReserveMessage succeed
// only while that item is the best one in the buffer. Whenever the best item changes (a more urgent
// arrival, or the previous best left), the offer loop offers the new best item to the targets again;
// a target that had postponed the old offer replaces it with the new one (the dataflow protocol keeps
// one postponed offer per source). A target coming back for an offer therefore gets the item that is
// best now, or a refusal followed by a fresh offer: never a stale head. Ids name items rather than
// "whatever is at the head" because a predicate link (DataflowBlock.LinkTo with a predicate) tests
// the offered value only, and must be handed that value.

using System.Diagnostics;
using System.Threading.Tasks.Dataflow;

namespace AntFlow.Dataflow;

/// <summary>The engine behind <see cref="PriorityBufferBlock{T}"/>: buffer, offering and bounding.</summary>
/// <typeparam name="T">The type of the buffered items.</typeparam>
internal sealed class PriorityBufferCore<T>
{
    private readonly Lock _lock = new();
    private readonly PriorityBufferBlock<T> _owner;
    private readonly Func<T, int> _prioritySelector;
    private readonly DataflowBlockOptions _options;
    private readonly int _boundedCapacity;
    private readonly int _maxMessagesPerTask;
    private readonly CancellationToken _cancellationToken;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _cancellationRegistration;
    private readonly bool _offerOnConsumingThread; // see ConsumeMessage
    private const int InlineOfferLimit = 4;

    private readonly PriorityLevelQueue<T> _queue = new(); // protected by _lock
    private readonly PostponedOffers<T>? _postponed; // protected by _lock; null when unbounded (nothing is ever postponed)
    private long _nextSequence = 1; // protected by _lock; 0 is not a valid message id
    private long _lastConsumedId; // written under _lock; read without it by the offer loop, see OfferToTargets

    private bool _hasReservation; // protected by _lock
    private T _reservedItem = default!; // protected by _lock; out of _queue while reserved so newer arrivals cannot displace it
    private PriorityKey _reservedKey; // protected by _lock
    private ITargetBlock<T>? _reservedBy; // protected by _lock

    private int _inboundInFlight; // protected by _lock; slots claimed by consumptions from sources still in progress
    private bool _inputLoopRunning; // protected by _lock

    private Link[] _links = []; // protected by _lock; copy-on-write, so a snapshot can be enumerated without the lock
    private int _linksWithLimit; // protected by _lock; links with a MaxMessages countdown
    private bool _offerLoopRunning; // protected by _lock
    private long _offerVersion; // protected by _lock; bumped whenever the best item, the links or the reservation change
    private long _idleVersion = -1; // protected by _lock; _offerVersion when the offer loop last found nothing to do

    // While the offer loop is inside a target's OfferMessage, the id of its thread; 0 otherwise. A target
    // accepting an offer consumes synchronously on that thread, and ConsumeMessage then leaves the next best
    // item in the _next* fields so the loop can offer it without taking the lock again. Only the loop's
    // thread writes these fields and reads the _next* ones (ConsumeMessage fills them under _lock, on that
    // thread); other threads read _offerThreadId only to compare it with their own id, which never matches.
    private int _offerThreadId;
    private bool _nextReady;
    private T _nextBest = default!;
    private PriorityKey _nextKey;
    private Link[] _nextLinks = [];
    private long _nextVersion;

    private bool _decliningPermanently; // protected by _lock; read with Volatile.Read as a fast path in OfferMessage
    private bool _releasingPostponed; // protected by _lock
    private List<KeyValuePair<ISourceBlock<T>, DataflowMessageHeader>>? _postponedToRelease; // protected by _lock
    private bool _completionReserved; // protected by _lock
    private Link[]? _linksToComplete; // protected by _lock
    private List<Exception>? _exceptions; // protected by _lock

    public PriorityBufferCore(PriorityBufferBlock<T> owner, Func<T, int> prioritySelector, DataflowBlockOptions options, bool offerOnConsumingThread = false)
    {
        _owner = owner;
        _offerOnConsumingThread = offerOnConsumingThread;
        _prioritySelector = prioritySelector;
        _options = options;
        _boundedCapacity = options.BoundedCapacity;
        _maxMessagesPerTask = options.MaxMessagesPerTask == DataflowBlockOptions.Unbounded ? int.MaxValue : options.MaxMessagesPerTask;
        _cancellationToken = options.CancellationToken;
        if (_boundedCapacity != DataflowBlockOptions.Unbounded)
        {
            _postponed = new PostponedOffers<T>();
        }

        if (_cancellationToken.CanBeCanceled)
        {
            // Runs synchronously when the token is already canceled: the block then completes at once.
            _cancellationRegistration = _cancellationToken.UnsafeRegister(
                static state => ((PriorityBufferCore<T>)state!).OnCanceled(), this);
        }
    }

    [Flags]
    private enum PendingWork
    {
        None = 0,
        StartOfferLoop = 1,
        StartInputLoop = 2,
        ReleasePostponed = 4,
        Complete = 8,
    }

    public Task Completion => _completion.Task;

    public DataflowBlockOptions Options => _options;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count + (_hasReservation ? 1 : 0);
            }
        }
    }

    /// <summary>Gets the count without taking the lock, for the debugger (a frozen thread may hold it).</summary>
    public int CountForDebugger => _queue.Count + (_hasReservation ? 1 : 0);

    private bool CanceledOrFaulted => _exceptions is not null || _cancellationToken.IsCancellationRequested;

    private bool HasRoom =>
        _boundedCapacity == DataflowBlockOptions.Unbounded ||
        _queue.Count + (_hasReservation ? 1 : 0) + _inboundInFlight < _boundedCapacity;

    // ---------------------------------------------------------------- target side

    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, T messageValue, ISourceBlock<T>? source, bool consumeToAccept)
    {
        if (!messageHeader.IsValid)
        {
            throw new ArgumentException("The message header is not valid.", nameof(messageHeader));
        }

        if (source is null && consumeToAccept)
        {
            throw new ArgumentException("consumeToAccept may only be true when a source is provided.", nameof(consumeToAccept));
        }

        // Fast path that avoids calling the selector for a completed block; rechecked under the lock.
        if (Volatile.Read(ref _decliningPermanently))
        {
            return DataflowMessageStatus.DecliningPermanently;
        }

        // User code: called outside the lock, once per offer. The priority of the offered value is the
        // priority of the message, including when it is consumed later.
        int priority = _prioritySelector(messageValue);
        PendingWork work;
        long sequence;
        lock (_lock)
        {
            AssertInvariants();
            if (_decliningPermanently || _cancellationToken.IsCancellationRequested)
            {
                return DataflowMessageStatus.DecliningPermanently;
            }

            if (!HasRoom || _postponed is { Count: > 0 })
            {
                // Full, or producers are already waiting (they go first): postpone when the source can
                // be asked again later, otherwise (Post) decline.
                if (source is null)
                {
                    return DataflowMessageStatus.Declined;
                }

                _postponed!.Add(source, messageHeader, priority);
                return DataflowMessageStatus.Postponed;
            }

            sequence = _nextSequence++;
            if (consumeToAccept)
            {
                // Claim the slot and the arrival number now; the value is fetched outside the lock.
                _inboundInFlight++;
                work = PendingWork.None;
            }
            else
            {
                work = Enqueue(messageValue, new PriorityKey(priority, sequence));
            }
        }

        if (consumeToAccept)
        {
            return ConsumeFromSource(source!, messageHeader, new PriorityKey(priority, sequence))
                ? DataflowMessageStatus.Accepted
                : DataflowMessageStatus.NotAvailable;
        }

        Run(work);
        return DataflowMessageStatus.Accepted;
    }

    /// <summary>Consumes a message into a slot already claimed in <see cref="_inboundInFlight"/>.</summary>
    private bool ConsumeFromSource(ISourceBlock<T> source, DataflowMessageHeader header, PriorityKey key)
    {
        T value;
        bool consumed;
        PendingWork work;
        try
        {
            value = source.ConsumeMessage(header, _owner, out consumed)!;
        }
        catch
        {
            lock (_lock)
            {
                AssertInvariants();
                _inboundInFlight--;
                work = MaybeStartInputLoop() | TryReserveCompletion();
            }

            Run(work);
            throw;
        }

        lock (_lock)
        {
            AssertInvariants();
            _inboundInFlight--;
            work = PendingWork.None;

            // Accepted before any Complete() that came meanwhile, so it is kept and drained; a fault or
            // cancellation drops everything buffered, this item included.
            if (consumed && !CanceledOrFaulted)
            {
                work = Enqueue(value, key);
            }

            work |= MaybeStartInputLoop() | TryReserveCompletion();
        }

        Run(work);
        return consumed;
    }

    public void Complete(Exception? exception)
    {
        PendingWork work;
        lock (_lock)
        {
            AssertInvariants();

            // Like the runtime's blocks, Fault after Complete does not change how the block ends.
            if (exception is not null && !_decliningPermanently)
            {
                (_exceptions ??= []).Add(exception);
            }

            work = BeginShutdown();
        }

        Run(work);
    }

    private void OnCanceled()
    {
        PendingWork work;
        lock (_lock)
        {
            AssertInvariants();
            work = BeginShutdown();
        }

        Run(work);
    }

    /// <summary>Stops accepting input; drops the buffer when faulted or canceled.</summary>
    private PendingWork BeginShutdown()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        Volatile.Write(ref _decliningPermanently, true);
        if (CanceledOrFaulted)
        {
            _queue.Clear();
        }

        PendingWork work = PendingWork.None;
        if (_postponed is { Count: > 0 })
        {
            // Producers waiting on a postponed offer must learn that it will never be taken: the release
            // calls back into their sources, so it runs on its own task, away from any caller's locks.
            (_postponedToRelease ??= []).AddRange(_postponed.TakeAll());
            if (!_releasingPostponed)
            {
                _releasingPostponed = true;
                work |= PendingWork.ReleasePostponed;
            }
        }

        return work | TryReserveCompletion();
    }

    // ---------------------------------------------------------------- source side

    public T? ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<T> target, out bool messageConsumed)
    {
        if (!messageHeader.IsValid)
        {
            throw new ArgumentException("The message header is not valid.", nameof(messageHeader));
        }

        ArgumentNullException.ThrowIfNull(target);
        T value;
        PendingWork work;
        bool offerHere = false;
        lock (_lock)
        {
            AssertInvariants();
            if (_hasReservation)
            {
                if (!ReferenceEquals(_reservedBy, target) || _reservedKey.Sequence != messageHeader.Id)
                {
                    messageConsumed = false;
                    return default;
                }

                value = _reservedItem;
                ClearReservation();
            }
            else if (!_queue.TryPeek(out _, out PriorityKey head) || head.Sequence != messageHeader.Id)
            {
                // Either taken by someone else or no longer the best item: the offer loop offers the
                // current best one again.
                messageConsumed = false;
                return default;
            }
            else
            {
                value = _queue.Dequeue();
            }

            _lastConsumedId = messageHeader.Id;
            CountDelivery(target);
            work = AfterRemoval();
            if (_offerThreadId == Environment.CurrentManagedThreadId)
            {
                PrepareNextOffer();
            }
            else if (_offerOnConsumingThread && (work & PendingWork.StartOfferLoop) != 0)
            {
                offerHere = true;
                work &= ~PendingWork.StartOfferLoop;
            }
        }

        Run(work);
        messageConsumed = true;
        if (offerHere)
        {
            // A target coming back for a postponed offer, outside its own locks: offering the next item right here
            // saves a task per item, and the target, still full, usually just postpones it. A few offers at most,
            // so that a stream of more urgent arrivals cannot keep the consumer from its item.
            OfferLoop(InlineOfferLimit);
        }

        return value;
    }

    public bool ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<T> target)
    {
        if (!messageHeader.IsValid)
        {
            throw new ArgumentException("The message header is not valid.", nameof(messageHeader));
        }

        ArgumentNullException.ThrowIfNull(target);
        lock (_lock)
        {
            AssertInvariants();
            if (_hasReservation || !_queue.TryPeek(out _, out PriorityKey head) || head.Sequence != messageHeader.Id)
            {
                return false;
            }

            _reservedItem = _queue.Dequeue();
            _reservedKey = head;
            _reservedBy = target;
            _hasReservation = true;
            return true;
        }
    }

    public void ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<T> target)
    {
        if (!messageHeader.IsValid)
        {
            throw new ArgumentException("The message header is not valid.", nameof(messageHeader));
        }

        ArgumentNullException.ThrowIfNull(target);
        PendingWork work;
        lock (_lock)
        {
            AssertInvariants();
            if (!_hasReservation || !ReferenceEquals(_reservedBy, target) || _reservedKey.Sequence != messageHeader.Id)
            {
                throw new InvalidOperationException("The message is not reserved by this target.");
            }

            // Back under its original key, so it keeps its place among equal priorities.
            if (!CanceledOrFaulted)
            {
                _queue.Enqueue(_reservedItem, _reservedKey);
            }

            ClearReservation();
            _offerVersion++;
            work = MaybeStartOfferLoop() | MaybeStartInputLoop() | TryReserveCompletion();
        }

        Run(work);
    }

    public bool TryReceive(Predicate<T>? filter, out T item)
    {
        PendingWork work;
        if (filter is null)
        {
            lock (_lock)
            {
                AssertInvariants();
                if (_hasReservation || !_queue.TryDequeue(out T? dequeued, out _))
                {
                    item = default!;
                    return false;
                }

                item = dequeued;
                work = AfterRemoval();
            }

            Run(work);
            return true;
        }

        while (true)
        {
            T? head;
            PriorityKey headKey;
            lock (_lock)
            {
                AssertInvariants();
                if (_hasReservation || !_queue.TryPeek(out head, out headKey))
                {
                    item = default!;
                    return false;
                }
            }

            // The filter is user code, so it runs outside the lock; the item is then taken only if it is
            // still the best one, otherwise the new best item is tested.
            if (!filter(head))
            {
                item = default!;
                return false;
            }

            lock (_lock)
            {
                AssertInvariants();
                if (!_hasReservation && _queue.TryPeek(out _, out PriorityKey current) && current.Sequence == headKey.Sequence)
                {
                    item = _queue.Dequeue();
                    work = AfterRemoval();
                    break;
                }
            }
        }

        Run(work);
        return true;
    }

    public bool TryReceiveAll(out IList<T>? items)
    {
        PendingWork work;
        List<T> all;
        lock (_lock)
        {
            AssertInvariants();
            if (_hasReservation || _queue.Count == 0)
            {
                items = null;
                return false;
            }

            all = new List<T>(_queue.Count);
            while (_queue.TryDequeue(out T? next, out _))
            {
                all.Add(next);
            }

            work = AfterRemoval();
        }

        Run(work);
        items = all;
        return true;
    }

    public IDisposable LinkTo(ITargetBlock<T> target, DataflowLinkOptions linkOptions)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(linkOptions);
        Link? link = null;
        PendingWork work = PendingWork.None;
        lock (_lock)
        {
            AssertInvariants();
            if (!_completionReserved)
            {
                link = new Link(this, target, linkOptions);
                Link[] current = _links;
                var updated = new Link[current.Length + 1];
                if (linkOptions.Append)
                {
                    current.CopyTo(updated, 0);
                    updated[^1] = link;
                }
                else
                {
                    current.CopyTo(updated, 1);
                    updated[0] = link;
                }

                _links = updated;
                if (link.RemainingMessages > 0)
                {
                    _linksWithLimit++;
                }

                _offerVersion++;
                work = MaybeStartOfferLoop();
            }
        }

        if (link is not null)
        {
            Run(work);
            return link;
        }

        // Completed, or about to: nothing will be offered, but completion is still propagated.
        if (linkOptions.PropagateCompletion)
        {
            _ = _completion.Task.ContinueWith(
                static (completion, state) => PropagateCompletion(completion, (ITargetBlock<T>)state!),
                target,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }

        return NoLink.Instance;
    }

    private void Unlink(Link link)
    {
        lock (_lock)
        {
            AssertInvariants();
            RemoveLink(link);
        }
    }

    // ---------------------------------------------------------------- state transitions (under _lock)

    private PendingWork Enqueue(T item, PriorityKey key)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        bool becomesBest = !_queue.TryPeek(out _, out PriorityKey best) || key.CompareTo(best) < 0;
        _queue.Enqueue(item, key);
        if (!becomesBest)
        {
            // The targets have already seen the best item; a worse one changes nothing for them.
            return PendingWork.None;
        }

        _offerVersion++;
        return MaybeStartOfferLoop();
    }

    /// <summary>Follows the removal of the best item (consumed or received): offer the next, admit postponed input, maybe complete.</summary>
    private PendingWork AfterRemoval()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        _offerVersion++;
        return MaybeStartOfferLoop() | MaybeStartInputLoop() | TryReserveCompletion();
    }

    private void ClearReservation()
    {
        _hasReservation = false;
        _reservedItem = default!;
        _reservedKey = default;
        _reservedBy = null;
    }

    /// <summary>Hands the offer loop its next item (see _offerThreadId); called on the loop's thread.</summary>
    private void PrepareNextOffer()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        _nextReady = CanOffer() && _queue.TryPeek(out _nextBest!, out _nextKey);
        _nextLinks = _links;
        _nextVersion = _offerVersion;
    }

    private bool CanOffer() => !_hasReservation && _queue.Count > 0 && _links.Length > 0 && !CanceledOrFaulted;

    private PendingWork MaybeStartOfferLoop()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (_offerLoopRunning || _offerVersion == _idleVersion || !CanOffer())
        {
            return PendingWork.None;
        }

        _offerLoopRunning = true;
        return PendingWork.StartOfferLoop;
    }

    private PendingWork MaybeStartInputLoop()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (_inputLoopRunning || _decliningPermanently || _postponed is not { Count: > 0 } || !HasRoom)
        {
            return PendingWork.None;
        }

        _inputLoopRunning = true;
        return PendingWork.StartInputLoop;
    }

    private PendingWork TryReserveCompletion()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (_completionReserved || !_decliningPermanently || _hasReservation || _inboundInFlight > 0 ||
            _offerLoopRunning || _inputLoopRunning || _releasingPostponed ||
            (_queue.Count > 0 && !CanceledOrFaulted))
        {
            return PendingWork.None;
        }

        _completionReserved = true;
        _linksToComplete = _links;
        foreach (Link link in _links)
        {
            link.Unlinked = true;
        }

        _links = [];
        _linksWithLimit = 0;
        return PendingWork.Complete;
    }

    /// <summary>Counts a delivery against the target's MaxMessages, unlinking it when exhausted.</summary>
    private void CountDelivery(ITargetBlock<T> target)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (_linksWithLimit == 0)
        {
            return;
        }

        foreach (Link link in _links)
        {
            if (ReferenceEquals(link.Target, target))
            {
                if (link.RemainingMessages > 0 && --link.RemainingMessages == 0)
                {
                    RemoveLink(link);
                }

                return;
            }
        }
    }

    private void RemoveLink(Link link)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        int index = Array.IndexOf(_links, link);
        if (index < 0)
        {
            return;
        }

        link.Unlinked = true;
        if (link.RemainingMessages > 0)
        {
            _linksWithLimit--;
        }

        Link[] current = _links;
        var updated = new Link[current.Length - 1];
        Array.Copy(current, 0, updated, 0, index);
        Array.Copy(current, index + 1, updated, index, current.Length - index - 1);
        _links = updated;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants()
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        Debug.Assert(_inboundInFlight >= 0, "More consumptions finished than started.");
        Debug.Assert(_hasReservation == _reservedBy is not null, "A reservation always names its target.");
        Debug.Assert(
            _boundedCapacity == DataflowBlockOptions.Unbounded ||
            _queue.Count + (_hasReservation ? 1 : 0) + _inboundInFlight <= _boundedCapacity,
            "Items beyond BoundedCapacity were admitted.");
        Debug.Assert(
            _offerLoopRunning || _offerVersion == _idleVersion || !CanOffer(),
            "Something changed for the targets but no offer loop is scheduled.");
        Debug.Assert(
            _inputLoopRunning || _decliningPermanently || _postponed is not { Count: > 0 } || !HasRoom,
            "There is room for a postponed offer but no input loop is scheduled.");
        Debug.Assert(_postponed is null || !_decliningPermanently || _postponed.Count == 0, "A declining block keeps no postponed offers.");
        Debug.Assert(!_completionReserved || _links.Length == 0, "Links are closed once completion is reserved.");
    }

    // ---------------------------------------------------------------- work outside the lock

    private void Run(PendingWork work)
    {
        Debug.Assert(!_lock.IsHeldByCurrentThread, "Pending work calls out of this block and must run outside the lock.");
        if (work == PendingWork.None)
        {
            return;
        }

        if ((work & PendingWork.StartOfferLoop) != 0)
        {
            StartLoop(static state => ((PriorityBufferCore<T>)state!).OfferLoop(), isOfferLoop: true);
        }

        if ((work & PendingWork.StartInputLoop) != 0)
        {
            StartLoop(static state => ((PriorityBufferCore<T>)state!).InputLoop(), isOfferLoop: false);
        }

        // Housekeeping runs on the default scheduler, like the runtime's blocks, so that completion does
        // not depend on a custom scheduler that might have stopped running tasks.
        if ((work & PendingWork.ReleasePostponed) != 0)
        {
            _ = Task.Factory.StartNew(
                static state => ((PriorityBufferCore<T>)state!).ReleasePostponed(),
                this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }

        if ((work & PendingWork.Complete) != 0)
        {
            _ = Task.Factory.StartNew(
                static state => ((PriorityBufferCore<T>)state!).CompleteBlock(),
                this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Starts a loop on the options' scheduler, so that offers and consumptions do not happen on the caller's stack
    /// and a chain of blocks cannot recurse into one another. The one exception is a stage queue's offer to the target
    /// that has just consumed (see ConsumeMessage).
    /// </summary>
    private void StartLoop(Action<object?> loop, bool isOfferLoop)
    {
        try
        {
            _ = Task.Factory.StartNew(loop, this, CancellationToken.None, TaskCreationOptions.DenyChildAttach, _options.TaskScheduler);
        }
        catch (Exception exception)
        {
            // The scheduler refused the task: the block can no longer make progress, so it faults.
            PendingWork work;
            lock (_lock)
            {
                if (isOfferLoop)
                {
                    _offerLoopRunning = false;
                    _idleVersion = _offerVersion;
                }
                else
                {
                    _inputLoopRunning = false;
                }

                work = Fail(exception);
            }

            Run(work);
        }
    }

    private PendingWork Fail(Exception exception)
    {
        Debug.Assert(_lock.IsHeldByCurrentThread);
        if (!_completionReserved)
        {
            (_exceptions ??= []).Add(exception);
        }

        return BeginShutdown();
    }

    /// <summary>Offers the best item to the linked targets until none takes it or nothing changes.</summary>
    /// <param name="maxOffers">Offers to make before handing the rest to a task: bounded when the loop runs on a consumer's thread.</param>
    private void OfferLoop(int maxOffers = int.MaxValue)
    {
        PendingWork work = PendingWork.None;
        int delivered = 0;
        int offers = 0;
        bool haveNext = false;
        T? best = default;
        PriorityKey bestKey = default;
        Link[] links = [];
        long version = 0;
        while (true)
        {
            if (!haveNext || delivered >= _maxMessagesPerTask || offers >= maxOffers)
            {
                lock (_lock)
                {
                    AssertInvariants();
                    Debug.Assert(_offerLoopRunning);
                    if (!CanOffer())
                    {
                        _offerLoopRunning = false;
                        _idleVersion = _offerVersion;
                        work = TryReserveCompletion();
                        break;
                    }

                    if (delivered >= _maxMessagesPerTask || offers >= maxOffers)
                    {
                        // MaxMessagesPerTask, or the consumer's thread has offered enough: yield the thread to other
                        // work and continue on a fresh task.
                        work = PendingWork.StartOfferLoop;
                        break;
                    }

                    _queue.TryPeek(out best, out bestKey);
                    links = _links;
                    version = _offerVersion;
                }
            }

            bool delivery;
            offers++;
            try
            {
                delivery = OfferToTargets(best!, bestKey.Sequence, links);
            }
            catch (Exception exception)
            {
                // A target threw from OfferMessage: like the runtime's sources, the block faults.
                lock (_lock)
                {
                    _offerLoopRunning = false;
                    _idleVersion = _offerVersion;
                    work = Fail(exception);
                }

                break;
            }

            if (delivery)
            {
                delivered++;

                // The consumption on this thread already looked at what comes next: no need to lock again.
                haveNext = _nextReady;
                if (haveNext)
                {
                    best = _nextBest;
                    bestKey = _nextKey;
                    links = _nextLinks;
                    version = _nextVersion;
                }

                _nextReady = false;
                _nextBest = default!;
                continue;
            }

            haveNext = false;
            lock (_lock)
            {
                AssertInvariants();
                if (_offerVersion == version)
                {
                    // Every target declined or postponed the best item; wait until something changes.
                    _offerLoopRunning = false;
                    _idleVersion = version;
                    work = TryReserveCompletion();
                    break;
                }
            }
        }

        Run(work);
    }

    /// <summary>Offers one item to the targets in link order; true when one of them took it.</summary>
    private bool OfferToTargets(T item, long id, Link[] links)
    {
        var header = new DataflowMessageHeader(id);
        foreach (Link link in links)
        {
            if (link.Unlinked)
            {
                continue;
            }

            DataflowMessageStatus status;
            _nextReady = false;
            _offerThreadId = Environment.CurrentManagedThreadId;
            try
            {
                status = link.Target.OfferMessage(header, item, _owner, consumeToAccept: true);
            }
            finally
            {
                _offerThreadId = 0;
            }

            switch (status)
            {
                case DataflowMessageStatus.Accepted:
                    // ConsumeMessage ran on this thread before the target returned, so a mismatch here means
                    // the target accepted without consuming, against the protocol. It holds the value anyway,
                    // so the item is removed if it is still ours, rather than delivered twice.
                    if (Volatile.Read(ref _lastConsumedId) != id)
                    {
                        TakeAcceptedWithoutConsume(link, id);
                    }

                    return true;

                case DataflowMessageStatus.DecliningPermanently:
                    Unlink(link);
                    break;

                case DataflowMessageStatus.NotAvailable:
                    // The item stopped being the best one while it was offered; the caller re-reads the head.
                    return false;

                default:
                    // Declined or Postponed: a postponing target keeps the offer and may consume it later.
                    break;
            }
        }

        return false;
    }

    private void TakeAcceptedWithoutConsume(Link link, long id)
    {
        PendingWork work = PendingWork.None;
        lock (_lock)
        {
            AssertInvariants();
            if (!_hasReservation && _queue.TryPeek(out _, out PriorityKey head) && head.Sequence == id)
            {
                _queue.Dequeue();
                _lastConsumedId = id;
                CountDelivery(link.Target);
                work = AfterRemoval();
            }
        }

        Run(work);
    }

    /// <summary>Consumes postponed offers, most urgent first, while there is room.</summary>
    private void InputLoop()
    {
        PendingWork work = PendingWork.None;
        int consumed = 0;
        while (true)
        {
            ISourceBlock<T> source;
            DataflowMessageHeader header;
            PriorityKey key;
            lock (_lock)
            {
                AssertInvariants();
                Debug.Assert(_inputLoopRunning);
                if (_decliningPermanently || !HasRoom || _postponed is not { Count: > 0 })
                {
                    _inputLoopRunning = false;
                    work = TryReserveCompletion();
                    break;
                }

                if (consumed >= _maxMessagesPerTask)
                {
                    work = PendingWork.StartInputLoop;
                    break;
                }

                _postponed.TryTakeBest(out source, out header, out int priority);
                key = new PriorityKey(priority, _nextSequence++);
                _inboundInFlight++;
            }

            try
            {
                ConsumeFromSource(source, header, key);
            }
            catch (Exception exception)
            {
                // A source threw from ConsumeMessage (its slot is already given back): the block faults.
                lock (_lock)
                {
                    _inputLoopRunning = false;
                    work = Fail(exception);
                }

                break;
            }

            consumed++;
        }

        Run(work);
    }

    private void ReleasePostponed()
    {
        List<KeyValuePair<ISourceBlock<T>, DataflowMessageHeader>>? offers;
        lock (_lock)
        {
            offers = _postponedToRelease;
            _postponedToRelease = null;
        }

        List<Exception>? errors = null;
        if (offers is not null)
        {
            foreach (KeyValuePair<ISourceBlock<T>, DataflowMessageHeader> offer in offers)
            {
                try
                {
                    // Reserving and releasing tells the source the offer is over; SendAsync then re-offers,
                    // is declined, and completes with false.
                    if (offer.Key.ReserveMessage(offer.Value, _owner))
                    {
                        offer.Key.ReleaseReservation(offer.Value, _owner);
                    }
                }
                catch (Exception exception)
                {
                    (errors ??= []).Add(exception);
                }
            }
        }

        PendingWork work;
        lock (_lock)
        {
            AssertInvariants();
            _releasingPostponed = false;
            if (errors is not null)
            {
                (_exceptions ??= []).AddRange(errors);
                _queue.Clear();
            }

            work = _postponedToRelease is { Count: > 0 } ? ReleaseAgain() : TryReserveCompletion();
        }

        Run(work);
    }

    private PendingWork ReleaseAgain()
    {
        _releasingPostponed = true;
        return PendingWork.ReleasePostponed;
    }

    private void CompleteBlock()
    {
        Link[] links;
        List<Exception>? exceptions;
        lock (_lock)
        {
            Debug.Assert(_completionReserved);
            links = _linksToComplete ?? [];
            _linksToComplete = null;
            exceptions = _exceptions;
            _queue.Clear();
        }

        _cancellationRegistration.Unregister();
        if (exceptions is not null)
        {
            _completion.TrySetException(exceptions);
        }
        else if (_cancellationToken.IsCancellationRequested)
        {
            _completion.TrySetCanceled(_cancellationToken);
        }
        else
        {
            _completion.TrySetResult();
        }

        // Completion first, then the targets, so a target never completes before its source reports it.
        List<Exception>? errors = null;
        foreach (Link link in links)
        {
            if (!link.PropagateCompletion)
            {
                continue;
            }

            try
            {
                PropagateCompletion(_completion.Task, link.Target);
            }
            catch (Exception exception)
            {
                (errors ??= []).Add(exception);
            }
        }

        if (errors is not null)
        {
            // Every target got its completion; a target that threw is reported through this task's
            // unobserved exception rather than by crashing the process.
            throw new AggregateException(errors);
        }
    }

    private static void PropagateCompletion(Task completion, ITargetBlock<T> target)
    {
        if (completion.IsFaulted)
        {
            target.Fault(completion.Exception!);
        }
        else
        {
            target.Complete();
        }
    }

    /// <summary>One link to a target; disposing it unlinks.</summary>
    private sealed class Link : IDisposable
    {
        private readonly PriorityBufferCore<T> _core;

        public Link(PriorityBufferCore<T> core, ITargetBlock<T> target, DataflowLinkOptions options)
        {
            _core = core;
            Target = target;
            PropagateCompletion = options.PropagateCompletion;
            RemainingMessages = options.MaxMessages;
        }

        public ITargetBlock<T> Target { get; }

        public bool PropagateCompletion { get; }

        /// <summary>Gets or sets the messages left before the link is removed; -1 for no limit. Protected by the core's lock.</summary>
        public int RemainingMessages { get; set; }

        /// <summary>Gets or sets a value indicating whether the link was removed; read without the lock by the offer loop.</summary>
        public bool Unlinked
        {
            get => Volatile.Read(ref _unlinked);
            set => Volatile.Write(ref _unlinked, value);
        }

        private bool _unlinked;

        public void Dispose() => _core.Unlink(this);
    }

    /// <summary>Returned by LinkTo once the block has completed: there is nothing to unlink.</summary>
    private sealed class NoLink : IDisposable
    {
        public static readonly NoLink Instance = new();

        public void Dispose()
        {
        }
    }
}
