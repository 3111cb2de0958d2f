using System.Runtime.ExceptionServices;

namespace Leasing;

// The outcome of an action that ran: stored (retried until stored or the claim is provably lost), or
// the claim released after a retryable failure.
public sealed partial class IdempotentExecutor
{
    /// <summary>
    /// Stores the outcome of an action that ran: the outcome is stored or the claim is provably lost,
    /// never silently abandoned. The heartbeat keeps the claim alive until the completion is stored;
    /// a completion that fails (timeout, lost reply, outage) is retried with the same owner token,
    /// which the store accepts past the lease as long as nobody reclaimed the key.
    /// </summary>
    private async Task<ExecutionOutcome> StoreOutcomeAsync(string key, string fingerprint, string owner, LeaseMonitor monitor, long fencingToken, ExecutionOutcome outcome)
    {
        var kind = outcome.Status == IdempotencyStatus.Failed ? IdempotencyOutcome.Failed : IdempotencyOutcome.Succeeded;
        var delay = FirstPoll;
        long? lostAt = null;
        long? failingSince = null;

        // A completion that keeps failing while the heartbeat succeeds (a payload the backend refuses or
        // cannot take within its command timeout) is not an outage to wait out: bounded, so the key is
        // not blocked for ever and shutdown does not hang.
        var giveUpAfter = _options.LeaseDuration > _options.OutageTolerance ? _options.LeaseDuration : _options.OutageTolerance;
        try
        {
            while (true)
            {
                bool stored;
                try
                {
                    stored = await _store.CompleteAsync(key, owner, kind, outcome.Payload, _options.Retention, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is LeaseStoreUnavailableException or TimeoutException)
                {
                    // The command may or may not have run. While the claim can still be ours, try again:
                    // with the heartbeat running that is until the backend answers; once the claim's local
                    // deadline has passed, for OutageTolerance more (then nobody can tell: say the claim is lost).
                    if (monitor.IsLost)
                    {
                        lostAt ??= _time.GetTimestamp();
                        if (_time.GetElapsedTime(lostAt.Value) >= _options.OutageTolerance)
                        {
                            Log.ClaimLost(_logger, key, fencingToken);
                            throw IdempotencyClaimLostException.ForKey(key, e);
                        }
                    }

                    // Only while the heartbeat keeps confirming the claim (the backend answers, yet refuses
                    // this completion): an outage is the lost-claim rule's to judge, above.
                    failingSince ??= _time.GetTimestamp();
                    if (monitor.LastConfirmedAt > failingSince.Value && _time.GetElapsedTime(failingSince.Value) >= giveUpAfter)
                    {
                        // The heartbeat stops in finally: the claim expires after its lease and a retry runs again.
                        throw new LeaseStoreUnavailableException(
                            $"Idempotency key '{key}': the outcome could not be stored for {giveUpAfter.TotalMilliseconds:0} ms while the claim was still held; the claim expires after its lease. The last error is inside.",
                            e);
                    }

                    Log.CompletionRetried(_logger, key, e);
                    await Task.Delay(Backoff.Jitter(delay), _time).ConfigureAwait(false);
                    delay = Backoff.Grow(delay, MaxPoll);
                    continue;
                }

                if (stored)
                {
                    return outcome;
                }

                return await AfterClaimLostAsync(key, fingerprint, fencingToken, outcome).ConfigureAwait(false);
            }
        }
        finally
        {
            await monitor.StopAsync().ConfigureAwait(false);
        }
    }

    private async Task<ExecutionOutcome> FailAsync(string key, string fingerprint, string owner, int attempt, LeaseMonitor monitor, long fencingToken, Exception error)
    {
        byte[]? failure = null;
        try
        {
            failure = _options.IsTerminal?.Invoke(error) == true ? StoredFailure.Write(error) : null;
        }
#pragma warning disable CA1031 // A predicate that throws must not leave the claim heartbeated for ever: not terminal.
        catch (Exception)
#pragma warning restore CA1031
        {
            failure = null;
        }

        if (failure is not null)
        {
            return await StoreOutcomeAsync(key, fingerprint, owner, monitor, fencingToken, ExecutionOutcome.Failed(error, failure)).ConfigureAwait(false);
        }

        await monitor.StopAsync().ConfigureAwait(false);
        if (monitor.IsLost)
        {
            // The action most likely stopped because its lease was lost: say so, with the cause inside.
            var released = await ReleaseAfterFailureAsync(key, owner, error).ConfigureAwait(false);
            if (!released)
            {
                Log.ClaimLost(_logger, key, fencingToken);
                throw IdempotencyClaimLostException.ForKey(key, error);
            }
        }
        else if (await ReleaseAfterFailureAsync(key, owner, error).ConfigureAwait(false))
        {
            Log.ClaimReleased(_logger, key, attempt, error);
        }

        ExceptionDispatchInfo.Throw(error);
        return null!;
    }

    private async Task<bool> ReleaseAfterFailureAsync(string key, string owner, Exception error)
    {
        try
        {
            return await _store.ReleaseAsync(key, owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception releaseError) when (releaseError is LeaseStoreUnavailableException or OperationCanceledException or TimeoutException)
        {
            // The action's exception is the one to report; the claim expires after its lease.
            Log.ClaimReleaseFailed(_logger, key, new AggregateException(error, releaseError));
            return false;
        }
    }

    // Completing found the claim no longer ours: our own earlier completion whose reply was lost
    // (same fencing token: the outcome is ours), someone else's stored outcome (replay), or gone.
    private async Task<ExecutionOutcome> AfterClaimLostAsync(string key, string fingerprint, long fencingToken, ExecutionOutcome ours)
    {
        IdempotencyRecord? record;
        try
        {
            record = await _store.GetAsync(key, CancellationToken.None).ConfigureAwait(false);
        }
        catch (LeaseStoreUnavailableException e)
        {
            // The claim is provably gone (the completion was refused); what replaced it is unknown.
            Log.ClaimLost(_logger, key, fencingToken);
            throw IdempotencyClaimLostException.ForKey(key, e);
        }

        if (record is { Status: IdempotencyStatus.Succeeded or IdempotencyStatus.Failed } && string.Equals(record.Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            if (record.FencingToken == fencingToken)
            {
                return ours;
            }

            Log.ClaimLost(_logger, key, fencingToken);
            return ExecutionOutcome.Replay(record);
        }

        Log.ClaimLost(_logger, key, fencingToken);
        throw IdempotencyClaimLostException.ForKey(key, ours.Error);
    }
}
