using System.Text.Json.Serialization.Metadata;

namespace Leasing;

// The shared execution of one key and fingerprint: claim the key, and while it is in progress
// elsewhere, wait for its completion signal or poll, within the wait budget of each caller.
public sealed partial class IdempotentExecutor
{
    // Waits for the shared execution: without a limit while it is this caller's own (the caller that
    // started the flight, once the action runs); within the wait budget while it is in progress
    // elsewhere or belongs to another caller in this process.
    private async Task<ExecutionOutcome> AwaitFlightAsync(SingleFlight<(string Key, string Fingerprint), Execution, ExecutionOutcome>.Ticket ticket, long started, CancellationToken cancellationToken)
    {
        var completion = ticket.Flight.Completion;
        var execution = ticket.Flight.State;
        while (!completion.IsCompleted)
        {
            var (phase, changed) = execution.Snapshot();
            var next = Task.WhenAny(completion, changed);
            var bounded = phase == ExecutionPhase.Waiting || (phase == ExecutionPhase.Executing && !ticket.IsCreator);
            if (!bounded)
            {
                await next.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var remaining = _options.WaitForInProgress - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                throw new IdempotencyInProgressException(execution.Key, RetryAfter(execution));
            }

            try
            {
                await next.WaitAsync(remaining, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The loop decides: still bounded -> out of budget; else keep waiting.
            }
        }

        return await completion.ConfigureAwait(false);
    }

    private TimeSpan RetryAfter(Execution execution)
    {
        // The owner's lease end is backend time; the local clock estimates backend now (a hint only).
        var left = execution.LeaseEnd() is { } end ? end - _time.GetUtcNow() : _options.LeaseDuration;
        return left > MinRetryAfter ? left : MinRetryAfter;
    }

    private async Task<ExecutionOutcome> RunFlightAsync<T>(SingleFlight<(string Key, string Fingerprint), Execution, ExecutionOutcome>.Flight flight, string fingerprint, Func<IdempotencyContext, Task<T>> action, JsonTypeInfo<T>? resultType)
    {
        var execution = flight.State;
        var key = execution.Key;
        var signal = new CompletionSignal();
        IAsyncDisposable? subscription = null;
        var poll = FirstPoll;
        long? outageSince = null;

        // Waiting ends when every caller left or the executor shuts down; a running action is another matter.
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(flight.CancellationToken, _shutdown.Token);
        try
        {
            while (true)
            {
                // Not the waiting token: once sent, a claim's answer is acted on (a won claim runs).
                waiting.Token.ThrowIfCancellationRequested();
                var sentAt = _time.GetTimestamp();
                IdempotencyClaim claim;
                try
                {
                    claim = await _store.TryClaimAsync(key, fingerprint, _options.LeaseDuration, CancellationToken.None).ConfigureAwait(false);
                    if (claim.Outcome == ClaimOutcome.Claimed && IsLate(sentAt))
                    {
                        // Answered past the claim's local deadline: a duplicate elsewhere may own the key by
                        // now, so the action must not run. The claim goes back; this counts as a failed round trip.
                        _ = ReleaseAfterFailureAsync(key, claim.OwnerToken!, new TimeoutException("The claim was answered past its local deadline."))
                            .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                        throw new LeaseStoreUnavailableException(
                            $"Idempotency key '{key}': the store answered the claim after {_time.GetElapsedTime(sentAt).TotalMilliseconds:0} ms, past its local deadline; the claim was released and the action did not run.");
                    }

                    outageSince = null;
                }
                catch (LeaseStoreUnavailableException e) when (execution.Waited)
                {
                    // Waiting for an owner elsewhere: a blip only delays the replay; an outage of
                    // OutageTolerance fails the waiting callers.
                    if (outageSince is null)
                    {
                        // From the first failed answer: one command stalled for the whole command timeout is one failure.
                        outageSince = _time.GetTimestamp();
                        Log.WaitOutage(_logger, key, e);
                    }

                    var lasted = _time.GetElapsedTime(outageSince.Value);
                    if (lasted >= _options.OutageTolerance)
                    {
                        throw new LeaseStoreUnavailableException(
                            $"Idempotency key '{key}': the store stayed unreachable for {lasted.TotalMilliseconds:0} ms while waiting for the execution elsewhere (outage tolerance {_options.OutageTolerance.TotalMilliseconds:0} ms); the last error is inside.",
                            e);
                    }

                    await signal.WaitAsync(Backoff.Jitter(poll), _time, waiting.Token).ConfigureAwait(false);
                    poll = Backoff.Grow(poll, MaxPoll);
                    continue;
                }

                switch (claim.Outcome)
                {
                    case ClaimOutcome.Claimed:
                        flight.Pin();
                        return await RunActionAsync(execution, fingerprint, claim, sentAt, action, resultType).ConfigureAwait(false);
                    case ClaimOutcome.Completed:
                        return ExecutionOutcome.Replay(claim.Existing!);
                    case ClaimOutcome.FingerprintMismatch:
                        throw IdempotencyKeyReuseException.ForKey(key);
                }

                execution.ObserveInProgress(claim.Existing);
                if (subscription is null && _store is IIdempotencyCompletionSource source)
                {
                    try
                    {
                        subscription = await source.SubscribeToCompletionAsync(key, signal.Set, waiting.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        Log.CompletionSubscribeFailed(_logger, key, e);
                        subscription = NoSubscription.Instance;
                    }

                    // Claim again at once: a completion between the claim and the subscription sent no signal.
                    continue;
                }

                // Poll no later than the owner's lease end (estimated on the local clock).
                var untilExpiry = claim.Existing is { } record ? record.LeaseExpiresAt - _time.GetUtcNow() : poll;
                var delay = untilExpiry < poll ? Max(untilExpiry, TimeSpan.FromMilliseconds(1)) : poll;
                await signal.WaitAsync(delay, _time, waiting.Token).ConfigureAwait(false);
                poll = Backoff.Grow(poll, MaxPoll);
            }
        }
        finally
        {
            if (subscription is not null)
            {
                await subscription.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private bool IsLate(long sentAt) => AbandonedGrants.IsLate(sentAt, _options.LeaseDuration, _time);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class NoSubscription : IAsyncDisposable
    {
        public static readonly NoSubscription Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
