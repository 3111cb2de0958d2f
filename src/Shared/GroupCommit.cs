// Compiled into each backend package that groups calls (linked source, internal in each).
namespace Leasing.Internal;

/// <summary>
/// Group commit of one pool's calls of one kind (least-recently-used acquires, releases) in this process.
/// While a call is in flight, later callers queue; when it answers, the queue goes out as one call for all
/// of them, in arrival order. A call that finds nothing in flight or queued is sent at once, so a lone
/// caller pays no extra latency; a queue that reaches <see cref="MaxBatch"/> goes out at once too, beside
/// the call in flight, so throughput has no ceiling of one call per round trip. Under concurrency one
/// script serves many callers, which costs the server and the client a fraction of separate scripts.
/// </summary>
/// <typeparam name="TItem">What a caller asks for.</typeparam>
/// <typeparam name="TResult">What a caller gets.</typeparam>
/// <param name="sameCall">Whether two items can share one call (e.g. acquires with the same ttl and members version).</param>
/// <remarks>
/// A queued caller waits for the call in flight and then for its own, each bounded by the store's command
/// timeout. One that cancels before its batch is sent leaves the queue: nothing is sent for it. One that
/// cancels after gets <see cref="OperationCanceledException"/>, and a result that lands later is handed to the
/// give-back (an acquire's grant is released instead of staying held, unrenewed, for a lease). A batch that
/// fails fails every caller in it with the same error; like a single call, it may have run on the server.
/// Callers whose item cannot share the first waiter's call wait for a later batch.
/// </remarks>
/// <param name="sendBatch">Sends one call for a batch and completes each of its waiters (an exception it throws fails them all).</param>
internal sealed class GroupCommit<TItem, TResult>(Func<TItem, TItem, bool> sameCall, Func<List<GroupCommit<TItem, TResult>.Waiter>, Task> sendBatch)
{
    /// <summary>The most callers one call serves.</summary>
    public const int MaxBatch = 64;

    private readonly Lock _gate = new();
    private readonly List<Waiter> _queue = [];
    private int _inFlight;

    /// <summary>
    /// Makes one call: sent at once with <paramref name="single"/> when nothing is in flight, else queued for the
    /// next batch (or sent now with a batch it filled).
    /// </summary>
    /// <param name="item">What the caller asks for.</param>
    /// <param name="single">Sends the call for this caller alone.</param>
    /// <param name="giveBack">Undoes a batched result its caller no longer waits for (may be <see langword="null"/>).</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>The caller's result.</returns>
    public async Task<TResult> CallAsync(TItem item, Func<TItem, CancellationToken, Task<TResult>> single, Func<TResult, Task>? giveBack, CancellationToken cancellationToken)
    {
        if (TryEnter(item, out var waiter, out var full))
        {
            try
            {
                return await single(item, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                SendNext();
            }
        }

        if (full is not null)
        {
            _ = SendAsync(full);
        }

        return await waiter!.WaitAsync(giveBack, cancellationToken).ConfigureAwait(false);
    }

    // Sends a batch, then (answered or failed) the next one; never throws: a failure, a defect too, reaches
    // every waiter of the batch rather than leaving them waiting.
    private async Task SendAsync(List<Waiter> batch)
    {
        try
        {
            await sendBatch(batch).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            batch.ForEach(w => w.Fail(e));
        }
        finally
        {
            SendNext();
        }
    }

    private void SendNext()
    {
        var next = Next();
        if (next.Count > 0)
        {
            _ = SendAsync(next);
        }
    }

    /// <summary>
    /// Enters a call. Returns true when the caller sends its own call now (nothing in flight); it must call
    /// <see cref="Next"/> once that call answered or failed. Otherwise the caller is queued as
    /// <paramref name="waiter"/>; when its arrival filled a batch, <paramref name="full"/> holds that batch
    /// (the waiter among them), which the caller sends now, beside the call in flight, and then calls
    /// <see cref="Next"/> for.
    /// </summary>
    /// <param name="item">What the caller asks for.</param>
    /// <param name="waiter">The queued waiter when the caller does not send its own call.</param>
    /// <param name="full">A full batch to send now, or <see langword="null"/>.</param>
    /// <returns>Whether the caller sends its own call now.</returns>
    private bool TryEnter(TItem item, out Waiter? waiter, out List<Waiter>? full)
    {
        lock (_gate)
        {
            full = null;
            if (_inFlight == 0 && _queue.Count == 0)
            {
                _inFlight = 1;
                waiter = null;
                return true;
            }

            waiter = new Waiter(this, item);
            _queue.Add(waiter);
            if (_queue.Count >= MaxBatch)
            {
                full = TakeBatch();
                if (full.Count == 0)
                {
                    full = null;
                }
                else
                {
                    _inFlight++;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// A call answered (or failed): takes the next batch (the first waiter and those behind it that can share
    /// its call, up to <see cref="MaxBatch"/>), to be sent now and followed by another <see cref="Next"/>.
    /// </summary>
    /// <returns>The waiters to send for, in arrival order; empty when nobody waits.</returns>
    private List<Waiter> Next()
    {
        lock (_gate)
        {
            _inFlight--;
            var taken = TakeBatch();
            if (taken.Count > 0)
            {
                _inFlight++;
            }

            return taken;
        }
    }

    private List<Waiter> TakeBatch()
    {
        _queue.RemoveAll(static w => w.Task.IsCompleted);
        if (_queue.Count == 0)
        {
            return [];
        }

        var first = _queue[0].Item;
        var taken = new List<Waiter>(Math.Min(_queue.Count, MaxBatch));
        foreach (var waiter in _queue)
        {
            if (taken.Count == MaxBatch)
            {
                break;
            }

            if (sameCall(waiter.Item, first))
            {
                waiter.Sent = true;
                taken.Add(waiter);
            }
        }

        _queue.RemoveAll(static w => w.Sent);
        return taken;
    }

    private bool TryLeave(Waiter waiter)
    {
        lock (_gate)
        {
            return !waiter.Sent && _queue.Remove(waiter);
        }
    }

    /// <summary>A queued call.</summary>
    internal sealed class Waiter(GroupCommit<TItem, TResult> owner, TItem item)
    {
        private readonly TaskCompletionSource<TResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TItem Item { get; } = item;

        /// <summary>Set under the owner's lock when the waiter was taken into a call.</summary>
        public bool Sent { get; set; }

        public Task<TResult> Task => _result.Task;

        public void Complete(TResult result) => _result.TrySetResult(result);

        internal void Fail(Exception error) => _result.TrySetException(error);

        /// <summary>
        /// Waits for this waiter's result: the calls are bounded by the store's command timeout, so it comes within
        /// two of them (the call in flight, then this waiter's own). When the caller cancels it leaves the queue,
        /// or when its batch was already sent, hands a result that lands later to <paramref name="giveBack"/>.
        /// </summary>
        /// <param name="giveBack">Undoes a result nobody waits for any more (may be <see langword="null"/>: nothing to undo).</param>
        /// <param name="cancellationToken">The caller's token.</param>
        /// <returns>The result.</returns>
        public async Task<TResult> WaitAsync(Func<TResult, Task>? giveBack, CancellationToken cancellationToken)
        {
            try
            {
                return await _result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandon(giveBack);
                throw;
            }
        }

        private void Abandon(Func<TResult, Task>? giveBack)
        {
            if (owner.TryLeave(this))
            {
                // Never sent: nothing to undo.
                _result.TrySetCanceled(CancellationToken.None);
            }
            else
            {
                _ = GiveBackLateAsync(giveBack);
            }
        }

        private async Task GiveBackLateAsync(Func<TResult, Task>? giveBack)
        {
            try
            {
                var result = await _result.Task.ConfigureAwait(false);
                if (giveBack is not null)
                {
                    await giveBack(result).ConfigureAwait(false);
                }
            }
            catch (Exception)
            {
                // The batch failed (nobody waits for its error any more): it may have run on the server, and
                // what it granted expires on its own, as after a single call whose reply was lost.
            }
        }
    }
}
