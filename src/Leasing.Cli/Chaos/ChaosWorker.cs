using System.Diagnostics;
using Leasing.Cli.Backends;

namespace Leasing.Cli.Chaos;

/// <summary>
/// One worker process of a chaos run (the hidden <c>chaos-worker</c> command): tasks that cycle the
/// channel pool, take locks on a few shared keys and send idempotent payments on shared keys, each
/// reporting every use to the coordinator (<see cref="ChaosWire"/>). A use is: acquire, announce the
/// fencing token to the fenced sink, work a little, write to the sink with the token, release. The
/// worker is naive on purpose: it writes even after its lease was lost, so a zombie's write reaches
/// the sink, which must refuse it. Some acquires are cancelled at a random moment.
/// </summary>
internal sealed class ChaosWorker(BackendKind kind, ChaosStores stores, CoordinatorLink link, string run, long epoch)
{
    public static async Task<int> RunAsync(BackendKind kind, string connection, string run, long epoch, CancellationToken cancellationToken)
    {
        using var link = new CoordinatorLink(Console.Out, Console.In);
        var listening = Task.Run(link.ListenAsync, CancellationToken.None);
        await using var stores = await ChaosStores.OpenAsync(kind, connection, run, cancellationToken).ConfigureAwait(false);
        link.Send("H", Environment.ProcessId);
        var worker = new ChaosWorker(kind, stores, link, run, epoch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, link.Stopping);
        await worker.WorkAsync(stop.Token).ConfigureAwait(false);
        if (link.CoordinatorGone)
        {
            return ExitCodes.Interrupted;
        }

        await Task.WhenAny(listening, Task.Delay(100, CancellationToken.None)).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private async Task WorkAsync(CancellationToken stop)
    {
        await using var pool = new ChannelPool(stores.Leases, new ChannelPoolOptions
        {
            Name = $"chaos-{run}",
            Channels = [.. Enumerable.Range(1, ChaosSettings.ChannelsFor(kind)).Select(ChaosKeys.Channel)],
            LeaseDuration = ChaosSettings.LeaseDuration,
            AcquireTimeout = ChaosSettings.AcquireTimeout,
            Cooldown = TimeSpan.FromMilliseconds(100),
            MembersVersion = 1,
            RetryMinDelay = TimeSpan.FromMilliseconds(5),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        });
        var locks = new DistributedLock(stores.Leases, new DistributedLockOptions
        {
            LeaseDuration = ChaosSettings.LeaseDuration,
            RetryMinDelay = TimeSpan.FromMilliseconds(5),
            RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        });
        await using var payments = new IdempotentExecutor(stores.Idempotency, new IdempotencyOptions
        {
            LeaseDuration = ChaosSettings.LeaseDuration,
            WaitForInProgress = ChaosSettings.AcquireTimeout,
            Retention = TimeSpan.FromMinutes(30),
        });

        var tasks = new List<Task>();
        for (var i = 0; i < ChaosSettings.PoolTasks; i++)
        {
            tasks.Add(Task.Run(() => LoopAsync(() => ChaosKeys.PoolResource, (_, token) => AcquireChannelAsync(pool, token), stop), CancellationToken.None));
        }

        for (var i = 0; i < ChaosSettings.LockTasks; i++)
        {
            // One key per task, so every lock key always has waiters (a stranded key shows as idle).
            var key = ChaosKeys.LockPrefix + ChaosKeys.Lock((i % ChaosSettings.LockKeys) + 1);
            tasks.Add(Task.Run(() => LoopAsync(() => key, (key, token) => AcquireLockAsync(locks, key, token), stop), CancellationToken.None));
        }

        for (var i = 0; i < ChaosSettings.PaymentTasks; i++)
        {
            tasks.Add(Task.Run(() => PayAsync(payments, stop), CancellationToken.None));
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private static async Task<Held?> AcquireChannelAsync(ChannelPool pool, CancellationToken cancellationToken)
    {
        var lease = await pool.AcquireAsync(cancellationToken).ConfigureAwait(false);
        return new Held(ChaosKeys.PoolPrefix + lease.ChannelId, lease.FencingToken, () => lease.LeaseLost.IsCancellationRequested, () => lease.ReleaseAsync(CancellationToken.None), lease)
        {
            TimeLeft = () => lease.TimeLeft,
            ExpiresAt = () => lease.ExpiresAt,
            ReadSequenceAsync = () => lease.GetStateAsync(ChaosJson.Default.Int64, CancellationToken.None),
            TrySetSequenceAsync = next => lease.TrySetStateAsync(next, ChaosJson.Default.Int64, CancellationToken.None),
        };
    }

    private static async Task<Held?> AcquireLockAsync(DistributedLock locks, string key, CancellationToken cancellationToken)
    {
        var handle = await locks.AcquireAsync(key[ChaosKeys.LockPrefix.Length..], ChaosSettings.AcquireTimeout, cancellationToken).ConfigureAwait(false);
        return new Held(key, handle.FencingToken, () => handle.LeaseLost.IsCancellationRequested, () => handle.ReleaseAsync(CancellationToken.None), handle)
        {
            TimeLeft = () => handle.TimeLeft,
            ExpiresAt = () => handle.ExpiresAt,
            ReadSequenceAsync = () => handle.GetStateAsync(ChaosJson.Default.Int64, CancellationToken.None),
            TrySetSequenceAsync = next => handle.TrySetStateAsync(next, ChaosJson.Default.Int64, CancellationToken.None),
        };
    }

    /// <summary>Acquire, begin, work, write, release; over and over until stopped.</summary>
    private async Task LoopAsync(Func<string> choose, Func<string, CancellationToken, Task<Held?>> acquire, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var resource = choose();
            using var cancel = RandomCancellation(stop);
            var sent = Stopwatch.GetTimestamp();
            Held? held;
            try
            {
                held = await acquire(resource, cancel?.Token ?? stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (cancel?.IsCancellationRequested == true)
            {
                link.Send("C", resource, Stopwatch.GetTimestamp());
                continue;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await RideThroughAsync(e, stop).ConfigureAwait(false);
                continue;
            }

            if (held is null)
            {
                continue;
            }

            await using (held.Handle.ConfigureAwait(false))
            {
                await UseAsync(held, sent).ConfigureAwait(false);
            }
        }
    }

    private async Task UseAsync(Held held, long sent)
    {
        // The handle's local deadline as of the grant: what the library promises the holder. A pool may hand
        // a caller a grant it claimed before that caller asked (for a waiter ahead that gave up), so the
        // deadline, not the caller's own call, says when the claim was sent.
        var granted = Stopwatch.GetTimestamp();
        var deadline = ChaosChecks.DeadlineAtGrant(sent, granted, held.TimeLeft(), ChaosSettings.LeaseDuration);
        await link.AskAsync("B", held.Key, held.Token, sent, granted, deadline, Fencing.ToUnixMicroseconds(held.ExpiresAt())).ConfigureAwait(false);

        // The resource's own fenced state: its next sequence number, read now and stored after the work.
        long? sequence = null;
        try
        {
            sequence = await held.ReadSequenceAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or TimeoutException)
        {
            link.Send("F", "state-read-failed", Stopwatch.GetTimestamp(), e.Message.ReplaceLineEndings(" ").Replace(ChaosWire.Separator, ' '));
        }

        // The work: short (channels are the bottleneck), and not stopped by LeaseLost on purpose (a
        // zombie's write must reach the sink).
        if (Random.Shared.Next(4) == 0)
        {
            await Task.Delay(Random.Shared.Next(1, 4)).ConfigureAwait(false);
        }
        else
        {
            await Task.Yield();
        }

        await link.AskAsync("W", held.Key, held.Token, Stopwatch.GetTimestamp()).ConfigureAwait(false);
        if (sequence is { } used)
        {
            try
            {
                var stored = await held.TrySetSequenceAsync(used + 1).ConfigureAwait(false);
                link.Send("Q", held.Key, held.Token, used, granted, Stopwatch.GetTimestamp(), stored);
            }
            catch (Exception e) when (e is LeaseStoreUnavailableException or TimeoutException)
            {
                link.Send("F", "state-write-failed", Stopwatch.GetTimestamp(), e.Message.ReplaceLineEndings(" ").Replace(ChaosWire.Separator, ' '));
            }
        }

        var end = Stopwatch.GetTimestamp();
        var lost = held.Lost();
        bool? released;
        try
        {
            released = await held.ReleaseAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is LeaseStoreUnavailableException or TimeoutException or OperationCanceledException)
        {
            released = null;
            link.Send("F", "release-failed", Stopwatch.GetTimestamp(), e.Message.ReplaceLineEndings(" ").Replace(ChaosWire.Separator, ' '));
        }

        // The lease's end on the backend as the handle last heard of it: read after the release, which waits for a
        // renewal in flight, so that a renewal answered meanwhile is in it.
        var expiresAt = Fencing.ToUnixMicroseconds(held.ExpiresAt());
        link.Send("R", held.Key, held.Token, end, Stopwatch.GetTimestamp(), released, lost, expiresAt);
    }

    /// <summary>Sends payments on keys every process shares (a fresh set every window), so duplicates meet across processes.</summary>
    private async Task PayAsync(IdempotentExecutor payments, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var window = Stopwatch.GetElapsedTime(epoch).Ticks / ChaosSettings.PaymentWindow.Ticks;
            var key = $"pay-{window}-{Random.Shared.Next(ChaosSettings.PaymentKeys)}";
            long executedUnder = 0;
            async Task<long> Charge(IdempotencyContext context)
            {
                executedUnder = context.FencingToken;

                // The payment provider's round trip; a lost claim stops it before the charge.
                await Task.Delay(Random.Shared.Next(10, 60), context.LeaseLost).ConfigureAwait(false);
                context.LeaseLost.ThrowIfCancellationRequested();
                await link.AskAsync("X", key, context.FencingToken, Stopwatch.GetTimestamp()).ConfigureAwait(false);
                return context.FencingToken;
            }

            // Some callers leave at a random moment (during the claim, the charge or the completion).
            // A caller that leaves detaches from a flight that runs on; so that the journal still learns
            // that flight's fate, an uncancelled observer joins the same flight (same key and fingerprint
            // in this process: one flight) and reports how it ended.
            using var cancel = RandomCancellation(stop, maxDelayMs: 80);
            var call = PayOnceAsync(payments, key, Charge, cancel?.Token ?? stop);
            var observer = cancel is null ? null : PayOnceAsync(payments, key, Charge, stop);
            var (outcome, storedBy) = await call.ConfigureAwait(false);
            if (outcome == ExecutionOutcomes.Cancelled && !stop.IsCancellationRequested)
            {
                link.Send("C", "payment", Stopwatch.GetTimestamp());
            }

            if (observer is not null)
            {
                // The flight's fate, as the observer saw it (its result replaces the caller's).
                (outcome, storedBy) = await observer.ConfigureAwait(false);
            }

            // Executed: this flight's own charge is the stored outcome (the result is the fencing token it
            // ran under); any other result replayed an outcome stored by another claim.
            if (storedBy is { } token)
            {
                outcome = token == executedUnder && executedUnder != 0 ? ExecutionOutcomes.Executed : ExecutionOutcomes.Replayed;
            }
            link.Send("E", key, executedUnder, outcome, Stopwatch.GetTimestamp());
            if (outcome is ExecutionOutcomes.Unavailable or ExecutionOutcomes.InProgress)
            {
                await Pause(stop).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One payment call: how it ended as the journal names it, or, when a result came back, the fencing token of the charge that stored it.</summary>
    private static async Task<(string Outcome, long? StoredBy)> PayOnceAsync(IdempotentExecutor payments, string key, Func<IdempotencyContext, Task<long>> charge, CancellationToken cancellationToken)
    {
        try
        {
            var result = await payments.ExecuteWithContextAsync(key, charge, fingerprint: "amount=100;currency=EUR", cancellationToken).ConfigureAwait(false);
            return (ExecutionOutcomes.Executed, result.Value);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (ExecutionOutcomes.Cancelled, null);
        }
        catch (IdempotencyClaimLostException)
        {
            return (ExecutionOutcomes.ClaimLost, null);
        }
        catch (IdempotencyInProgressException)
        {
            return (ExecutionOutcomes.InProgress, null);
        }
        catch (LeaseStoreUnavailableException)
        {
            return (ExecutionOutcomes.Unavailable, null);
        }
        catch (OperationCanceledException)
        {
            return ("action-stopped", null); // the claim was lost before the charge: released, nothing charged
        }
        catch (Exception e)
        {
            return ($"error:{e.GetType().Name}", null);
        }
    }

    private async Task RideThroughAsync(Exception e, CancellationToken stop)
    {
        link.Send(
            "F",
            e switch
            {
                LeaseStoreUnavailableException => "unavailable",
                ChannelPoolExhaustedException => "pool-exhausted",
                TimeoutException => "lock-timeout",
                _ => $"error:{e.GetType().Name}",
            },
            Stopwatch.GetTimestamp(),
            $"{e.Message} {e.InnerException?.Message}".ReplaceLineEndings(" ").Replace(ChaosWire.Separator, ' '));
        if (e is LeaseStoreUnavailableException or not (ChannelPoolExhaustedException or TimeoutException))
        {
            await Pause(stop).ConfigureAwait(false);
        }
    }

    private static async Task Pause(CancellationToken stop)
    {
        try
        {
            await Task.Delay(50, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>For a few calls, a token that cancels itself after a random short delay (or null: the call is not cancelled).</summary>
    private static CancellationTokenSource? RandomCancellation(CancellationToken stop, int maxDelayMs = 5)
    {
        if (Random.Shared.NextDouble() >= ChaosSettings.CancelRate)
        {
            return null;
        }

        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop);
        cancel.CancelAfter(TimeSpan.FromMicroseconds(Random.Shared.Next(0, maxDelayMs * 1000)));
        return cancel;
    }

    /// <summary>A held channel or lock, whatever handle it came in.</summary>
    private sealed record Held(string Key, long Token, Func<bool> Lost, Func<ValueTask<bool>> ReleaseAsync, IAsyncDisposable Handle)
    {
        public required Func<TimeSpan> TimeLeft { get; init; }

        /// <summary>The lease's end on the backend's clock, as of the last renewal the handle heard of.</summary>
        public required Func<DateTimeOffset> ExpiresAt { get; init; }

        public required Func<ValueTask<long>> ReadSequenceAsync { get; init; }

        public required Func<long, ValueTask<bool>> TrySetSequenceAsync { get; init; }
    }
}

/// <summary>JSON metadata of the chaos run's resource state (a sequence number), for trimmed builds.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(long))]
internal sealed partial class ChaosJson : System.Text.Json.Serialization.JsonSerializerContext;
