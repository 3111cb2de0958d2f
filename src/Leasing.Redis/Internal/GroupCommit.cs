namespace Leasing.Redis.Internal;

/// <summary>
/// Group commit of one pool's calls of one kind (least-recently-used acquires, releases) in this process.
/// While one call is in flight, later callers queue; when it answers, the queue goes out as one call for all
/// of them (up to <see cref="MaxBatch"/>, in arrival order). A call that finds nothing in flight is sent at
/// once, so a lone caller pays no extra latency; under concurrency one script serves many callers, which
/// costs the server and the client a fraction of separate scripts.
/// </summary>
/// <typeparam name="TItem">What a caller asks for.</typeparam>
/// <typeparam name="TResult">What a caller gets.</typeparam>
/// <param name="sameCall">Whether two items can share one call (e.g. acquires with the same ttl and members version).</param>
/// <remarks>
/// A queued caller that cancels, or whose wait runs past the store's command timeout, before its batch is
/// sent leaves the queue: nothing was sent for it. One that leaves after gets the error, and a result that
/// lands later is handed to the give-back (an acquire's grant is released instead of staying held,
/// unrenewed, for a lease). A batch that fails fails every caller in it with the same error; like a single
/// call, it may have run on the server.
/// </remarks>
internal sealed class GroupCommit<TItem, TResult>(Func<TItem, TItem, bool> sameCall)
{
    /// <summary>The most callers one call serves.</summary>
    public const int MaxBatch = 64;

    private readonly Lock _gate = new();
    private readonly List<Waiter> _queue = [];
    private bool _busy;

    /// <summary>Takes the call slot: true when nothing is in flight (the caller sends its own call now, then calls <see cref="Next"/>); else queues.</summary>
    /// <param name="item">What the caller asks for.</param>
    /// <param name="waiter">The queued waiter when the slot was busy.</param>
    /// <returns>Whether the caller sends its own call now.</returns>
    public bool TryEnter(TItem item, out Waiter? waiter)
    {
        lock (_gate)
        {
            if (!_busy)
            {
                _busy = true;
                waiter = null;
                return true;
            }

            waiter = new Waiter(this, item);
            _queue.Add(waiter);
            return false;
        }
    }

    /// <summary>
    /// The call in flight answered (or failed): takes the next batch (the first waiter and those behind it that
    /// can share its call, up to <see cref="MaxBatch"/>), or frees the slot when nobody waits.
    /// </summary>
    /// <returns>The waiters to send for, in arrival order; empty when the slot is free again.</returns>
    public List<Waiter> Next()
    {
        lock (_gate)
        {
            _queue.RemoveAll(static w => w.Task.IsCompleted);
            if (_queue.Count == 0)
            {
                _busy = false;
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

        public void Fail(Exception error) => _result.TrySetException(error);

        /// <summary>
        /// Waits for this waiter's result, at most <paramref name="timeout"/> (the store's command timeout, counted
        /// from the call: the wait for the call in flight is part of it). When the caller cancels or the time runs
        /// out, it leaves the queue, or when its batch was already sent, hands a result that lands later to
        /// <paramref name="giveBack"/>.
        /// </summary>
        /// <param name="giveBack">Undoes a result nobody waits for any more (may be <see langword="null"/>: nothing to undo).</param>
        /// <param name="timeout">How long the caller waits.</param>
        /// <param name="timedOut">The error for a wait that ran out.</param>
        /// <param name="cancellationToken">The caller's token.</param>
        /// <returns>The result.</returns>
        public async Task<TResult> WaitAsync(Func<TResult, Task>? giveBack, TimeSpan timeout, Func<Exception> timedOut, CancellationToken cancellationToken)
        {
            try
            {
                return await _result.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Abandon(giveBack);
                throw;
            }
            catch (TimeoutException)
            {
                Abandon(giveBack);
                throw timedOut();
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
