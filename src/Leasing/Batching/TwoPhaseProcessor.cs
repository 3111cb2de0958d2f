namespace Leasing.Batching;

/// <summary>
/// Processes items in batches under one lock per batch, with the slow part outside the lock:
/// phase 1 prepares every item of a batch concurrently without the lock; phase 2 takes the lock
/// once, and the commit re-reads each item's fresh state and applies its patch, so writes others
/// made during phase 1 survive. The lock is released between batches, so other writers get it;
/// per-item failures are reported, not fatal.
/// </summary>
public sealed class TwoPhaseProcessor
{
    private readonly DistributedLock _lock;
    private readonly TwoPhaseProcessorOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates a processor.</summary>
    /// <param name="distributedLock">The lock that guards the commits.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock for the lock-held figure; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public TwoPhaseProcessor(DistributedLock distributedLock, TwoPhaseProcessorOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(distributedLock);
        options ??= new TwoPhaseProcessorOptions();
        var failures = new List<string>();
        if (options.BatchSize < 1)
        {
            failures.Add($"TwoPhaseProcessorOptions.BatchSize must be at least 1 (was {options.BatchSize}).");
        }

        if (options.MaxPrepareConcurrency < 1)
        {
            failures.Add($"TwoPhaseProcessorOptions.MaxPrepareConcurrency must be at least 1 (was {options.MaxPrepareConcurrency}).");
        }

        if (options.LockTimeout < TimeSpan.Zero && options.LockTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"TwoPhaseProcessorOptions.LockTimeout must not be negative (was {options.LockTimeout}).");
        }

        if (failures.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", failures), nameof(options));
        }

        _lock = distributedLock;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Runs both phases over <paramref name="items"/>, batch by batch.</summary>
    /// <typeparam name="TItem">The item type.</typeparam>
    /// <typeparam name="TPatch">The patch type.</typeparam>
    /// <param name="lockKey">The lock's key (the rules of <see cref="LeaseArguments"/>).</param>
    /// <param name="items">The items.</param>
    /// <param name="prepare">Phase 1, outside the lock: computes an item's patch (the slow part). An exception fails that item only.</param>
    /// <param name="commit">Phase 2, under the lock: re-reads each item's state and applies its patch. Its token is cancelled when the lock is lost. An exception fails the batch's items; the run goes on.</param>
    /// <param name="cancellationToken">Stops the run (between steps; a commit in progress sees it too).</param>
    /// <returns>The batches, the locks taken and the failed items.</returns>
    /// <exception cref="ArgumentException">The key breaks the key rules.</exception>
    /// <exception cref="TimeoutException">A batch could not take the lock within <see cref="TwoPhaseProcessorOptions.LockTimeout"/>.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    public async Task<TwoPhaseReport<TItem>> RunAsync<TItem, TPatch>(
        string lockKey,
        IEnumerable<TItem> items,
        Func<TItem, CancellationToken, Task<TPatch>> prepare,
        Func<TwoPhaseBatch<TItem, TPatch>, LockHandle, CancellationToken, Task> commit,
        CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(lockKey, nameof(lockKey));
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(prepare);
        ArgumentNullException.ThrowIfNull(commit);

        var failures = new List<TwoPhaseItemFailure<TItem>>();
        var batches = 0;
        var locks = 0;
        var committed = 0;
        var held = TimeSpan.Zero;
        foreach (var chunk in items.Chunk(_options.BatchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var index = batches++;

            // Phase 1, no lock: the slow part, concurrently.
            var prepared = await PrepareAsync(chunk, prepare, failures, cancellationToken).ConfigureAwait(false);
            if (prepared.Length == 0)
            {
                continue;
            }

            // Phase 2, one lock for the whole batch.
            var handle = await _lock.AcquireAsync(lockKey, _options.LockTimeout, cancellationToken).ConfigureAwait(false);
            locks++;
            var acquiredAt = _time.GetTimestamp();
            var batch = new TwoPhaseBatch<TItem, TPatch>(index, prepared, handle.FencingToken);
            await using (handle.ConfigureAwait(false))
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, handle.LeaseLost);
                try
                {
                    await commit(batch, handle, linked.Token).ConfigureAwait(false);
                    var batchFailures = batch.Failures;
                    failures.AddRange(batchFailures);
                    committed += prepared.Length - batchFailures.Select(f => f.Item).Distinct().Count();
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    // The commit failed as a whole (or the lock was lost): its items failed; the run goes on.
                    failures.AddRange(prepared.Select(p => new TwoPhaseItemFailure<TItem>(p.Item, TwoPhaseStage.Commit, e)));
                }
            }

            held += _time.GetElapsedTime(acquiredAt);

            // Released: let other writers in before the next batch takes the lock again.
            await Task.Yield();
        }

        return new TwoPhaseReport<TItem>(batches, locks, committed, failures, held);
    }

    private async Task<PreparedItem<TItem, TPatch>[]> PrepareAsync<TItem, TPatch>(
        TItem[] chunk,
        Func<TItem, CancellationToken, Task<TPatch>> prepare,
        List<TwoPhaseItemFailure<TItem>> failures,
        CancellationToken cancellationToken)
    {
        var patches = new TPatch[chunk.Length];
        var errors = new Exception?[chunk.Length];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxPrepareConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, chunk.Length), parallel, async (i, ct) =>
        {
            try
            {
                patches[i] = await prepare(chunk[i], ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                errors[i] = e;
            }
        }).ConfigureAwait(false);

        var prepared = new List<PreparedItem<TItem, TPatch>>(chunk.Length);
        for (var i = 0; i < chunk.Length; i++)
        {
            if (errors[i] is { } error)
            {
                failures.Add(new TwoPhaseItemFailure<TItem>(chunk[i], TwoPhaseStage.Prepare, error));
            }
            else
            {
                prepared.Add(new PreparedItem<TItem, TPatch>(chunk[i], patches[i]));
            }
        }

        return [.. prepared];
    }
}
