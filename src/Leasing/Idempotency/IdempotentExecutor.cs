using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasing;

/// <summary>
/// Runs an action at most once per key across every instance sharing the store, and replays its
/// recorded outcome to duplicates: N parallel duplicates -> 1 execution.
/// </summary>
/// <remarks>
/// <para>In-process duplicates (same key and fingerprint) join one shared execution: one claim round
/// trip whatever their number; each waits with its own token and detaches alone. A duplicate that
/// finds the key in progress elsewhere claims again on every completion signal or poll (polling no
/// later than the owner's lease end): completed -> replay; claimed (the owner died) -> it runs the
/// action itself; still in progress -> it keeps waiting, within <see cref="IdempotencyOptions.WaitForInProgress"/>
/// in total, then <see cref="IdempotencyInProgressException"/>.</para>
/// <para>While the action runs, the claim is heartbeated every LeaseDuration/3. The action's token
/// is cancelled on lease loss or when the executor is disposed, never because callers left: a
/// started action runs to its end and its outcome is stored.</para>
/// <para>Outcomes: success is stored (System.Text.Json) for <see cref="IdempotencyOptions.Retention"/>
/// and replayed with <see cref="IdempotentResult{T}.Replayed"/> set; a terminal exception
/// (<see cref="IdempotencyOptions.IsTerminal"/>) is stored as its type name and message and replayed
/// as <see cref="IdempotentExecutionFailedException"/> (the call that ran the action gets the
/// original); any other exception releases the claim at once and propagates (a retry runs again).</para>
/// </remarks>
// This file: construction, the public entry points, the shared execution's callers, and running the
// action of a won claim under its heartbeat. The claim and the wait for an execution elsewhere are in
// IdempotentExecutor.Claim.cs; storing the action's outcome in IdempotentExecutor.Outcome.cs.
public sealed partial class IdempotentExecutor : IAsyncDisposable
{
    private static readonly TimeSpan MinRetryAfter = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(1);

    private readonly IIdempotencyStore _store;
    private readonly IdempotencyOptions _options;
    private const string ReflectionMessage = "Serialises the result (and input) with reflection over their types; use an overload taking JsonTypeInfo in trimmed or AOT apps.";

    private readonly JsonSerializerOptions? _json;
    private readonly ReplayCache? _replays;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly SingleFlight<(string Key, string Fingerprint), Execution, ExecutionOutcome> _flights =
        new(static id => new Execution(id.Key));
    private readonly CancellationTokenSource _shutdown = new();

    /// <summary>Creates an executor over a store.</summary>
    /// <param name="store">The idempotency store shared by every instance.</param>
    /// <param name="options">The options; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The local clock (wait budget, heartbeats); <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public IdempotentExecutor(IIdempotencyStore store, IdempotencyOptions? options = null, TimeProvider? timeProvider = null, ILogger<IdempotentExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new IdempotencyOptions();
        IdempotencyOptionsValidator.ThrowIfInvalid(options, nameof(options));
        _store = store;
        _options = options;
        _json = options.SerializerOptions;
        _time = timeProvider ?? TimeProvider.System;
        _replays = options.ReplayCacheDuration > TimeSpan.Zero ? new ReplayCache(Min(options.ReplayCacheDuration, options.Retention), _time) : null;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _tags = [new(LeasingTelemetry.BackendTag, store.BackendName)];
    }

    /// <summary>Runs <paramref name="action"/> once for <paramref name="key"/>, or replays its outcome.</summary>
    /// <typeparam name="T">The result type (stored with System.Text.Json).</typeparam>
    /// <param name="key">The idempotency key (the rules of <see cref="LeaseArguments"/>).</param>
    /// <param name="action">The action; its token is cancelled on lease loss or shutdown only.</param>
    /// <param name="fingerprint">Identifies the input: a call with the same key and another fingerprint fails with <see cref="IdempotencyKeyReuseException"/>. <see langword="null"/>: not checked.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    /// <exception cref="ArgumentException">The key or fingerprint breaks the key rules.</exception>
    /// <exception cref="IdempotencyKeyReuseException">The key was used with another fingerprint.</exception>
    /// <exception cref="IdempotencyInProgressException">The key stayed in progress for the whole wait budget.</exception>
    /// <exception cref="IdempotentExecutionFailedException">A terminal failure was stored for the key.</exception>
    /// <exception cref="IdempotencyClaimLostException">The claim was lost while the action ran and no outcome is stored.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The store could not be reached.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ReflectionMessage)]
    public Task<IdempotentResult<T>> ExecuteAsync<T>(string key, Func<CancellationToken, Task<T>> action, string? fingerprint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(key, fingerprint ?? ResultCodec.NoFingerprint, context => action(context.CancellationToken), null, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteAsync{T}(string, Func{CancellationToken, Task{T}}, string?, CancellationToken)"/>, storing the result with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="resultType">Serialises the result.</param>
    /// <param name="action">The action; its token is cancelled on lease loss or shutdown only.</param>
    /// <param name="fingerprint">Identifies the input; <see langword="null"/>: not checked.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    public Task<IdempotentResult<T>> ExecuteAsync<T>(string key, JsonTypeInfo<T> resultType, Func<CancellationToken, Task<T>> action, string? fingerprint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(key, fingerprint ?? ResultCodec.NoFingerprint, context => action(context.CancellationToken), resultType, cancellationToken);
    }

    /// <summary>Runs <paramref name="action"/> on <paramref name="input"/> once for <paramref name="key"/>, or replays its outcome. The fingerprint is the SHA-256 of the input's JSON.</summary>
    /// <typeparam name="TInput">The input type (serialised with System.Text.Json for the fingerprint).</typeparam>
    /// <typeparam name="T">The result type (stored with System.Text.Json).</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="input">The input.</param>
    /// <param name="action">The action; its token is cancelled on lease loss or shutdown only.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    /// <exception cref="ArgumentException">The key breaks the key rules.</exception>
    /// <exception cref="IdempotencyKeyReuseException">The key was used with other input.</exception>
    /// <exception cref="IdempotencyInProgressException">The key stayed in progress for the whole wait budget.</exception>
    /// <exception cref="IdempotentExecutionFailedException">A terminal failure was stored for the key.</exception>
    /// <exception cref="IdempotencyClaimLostException">The claim was lost while the action ran and no outcome is stored.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The store could not be reached.</exception>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ReflectionMessage)]
    public Task<IdempotentResult<T>> ExecuteAsync<TInput, T>(string key, TInput input, Func<TInput, CancellationToken, Task<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        var fingerprint = ResultCodec.Fingerprint(input, null, _json);
        return RunAsync(key, fingerprint, context => action(input, context.CancellationToken), null, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteAsync{TInput, T}(string, TInput, Func{TInput, CancellationToken, Task{T}}, CancellationToken)"/>, serialising with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="input">The input.</param>
    /// <param name="inputType">Serialises the input for the fingerprint.</param>
    /// <param name="resultType">Serialises the result.</param>
    /// <param name="action">The action; its token is cancelled on lease loss or shutdown only.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    public Task<IdempotentResult<T>> ExecuteAsync<TInput, T>(string key, TInput input, JsonTypeInfo<TInput> inputType, JsonTypeInfo<T> resultType, Func<TInput, CancellationToken, Task<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputType);
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(action);
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        var fingerprint = ResultCodec.Fingerprint(input, inputType, _json);
        return RunAsync(key, fingerprint, context => action(input, context.CancellationToken), resultType, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ExecuteAsync{T}(string, Func{CancellationToken, Task{T}}, string?, CancellationToken)"/>,
    /// giving the action its <see cref="IdempotencyContext"/>: pass its fencing token downstream, so
    /// a system the action writes to can reject an owner that outlived its lease.
    /// </summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="action">The action.</param>
    /// <param name="fingerprint">Identifies the input; <see langword="null"/>: not checked.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ReflectionMessage)]
    public Task<IdempotentResult<T>> ExecuteWithContextAsync<T>(string key, Func<IdempotencyContext, Task<T>> action, string? fingerprint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(key, fingerprint ?? ResultCodec.NoFingerprint, action, null, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteAsync{TInput, T}(string, TInput, Func{TInput, CancellationToken, Task{T}}, CancellationToken)"/>, giving the action its <see cref="IdempotencyContext"/>.</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="input">The input (fingerprinted).</param>
    /// <param name="action">The action.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ReflectionMessage)]
    public Task<IdempotentResult<T>> ExecuteWithContextAsync<TInput, T>(string key, TInput input, Func<TInput, IdempotencyContext, Task<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(action);
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        var fingerprint = ResultCodec.Fingerprint(input, null, _json);
        return RunAsync(key, fingerprint, context => action(input, context), null, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteWithContextAsync{T}(string, Func{IdempotencyContext, Task{T}}, string?, CancellationToken)"/>, serialising the result with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="resultType">Serialises the result.</param>
    /// <param name="action">The action.</param>
    /// <param name="fingerprint">Identifies the input; <see langword="null"/>: not checked.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    public Task<IdempotentResult<T>> ExecuteWithContextAsync<T>(string key, JsonTypeInfo<T> resultType, Func<IdempotencyContext, Task<T>> action, string? fingerprint = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(action);
        return RunAsync(key, fingerprint ?? ResultCodec.NoFingerprint, action, resultType, cancellationToken);
    }

    /// <summary>As <see cref="ExecuteWithContextAsync{TInput, T}(string, TInput, Func{TInput, IdempotencyContext, Task{T}}, CancellationToken)"/>, serialising with source-generated metadata (trimming, AOT).</summary>
    /// <typeparam name="TInput">The input type.</typeparam>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The idempotency key.</param>
    /// <param name="input">The input (fingerprinted).</param>
    /// <param name="inputType">Serialises the input for the fingerprint.</param>
    /// <param name="resultType">Serialises the result.</param>
    /// <param name="action">The action.</param>
    /// <param name="cancellationToken">Stops this caller's wait only; a started action runs on.</param>
    /// <returns>The result, with <see cref="IdempotentResult{T}.Replayed"/> set when the action did not run for this call.</returns>
    public Task<IdempotentResult<T>> ExecuteWithContextAsync<TInput, T>(string key, TInput input, JsonTypeInfo<TInput> inputType, JsonTypeInfo<T> resultType, Func<TInput, IdempotencyContext, Task<T>> action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputType);
        ArgumentNullException.ThrowIfNull(resultType);
        ArgumentNullException.ThrowIfNull(action);
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        var fingerprint = ResultCodec.Fingerprint(input, inputType, _json);
        return RunAsync(key, fingerprint, context => action(input, context), resultType, cancellationToken);
    }

    /// <summary>
    /// Removes the stored record of <paramref name="key"/> (<see cref="IIdempotencyStore.EvictAsync"/>) and this
    /// executor's cached replay of it, so the next call with the key runs the action again (unless a call of this
    /// executor is running the action for the key right now: a later call joins it). A call already under way may
    /// still return the outcome it read before the eviction, but that outcome is not cached. Other executors (other processes) over the same store keep
    /// replaying their cached outcome until their <see cref="IdempotencyOptions.ReplayCacheDuration"/> passes; an
    /// eviction made on the store directly (the <c>leasing idem evict</c> command) likewise.
    /// </summary>
    /// <param name="key">The idempotency key.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the store held a record of the key.</returns>
    /// <exception cref="ArgumentException">The key is not valid.</exception>
    /// <exception cref="LeaseStoreUnavailableException">The store could not be reached; the cached replay is gone either way.</exception>
    /// <exception cref="OperationCanceledException">The caller cancelled; the store may have evicted the key anyway.</exception>
    public async ValueTask<bool> EvictAsync(string key, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        cancellationToken.ThrowIfCancellationRequested();
        Forget(key);
        try
        {
            return await _store.EvictAsync(key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Again after the store's answer: a flight that began between the two saw the record not yet evicted.
            Forget(key);
        }
    }

    /// <summary>
    /// Shuts down: the tokens of running actions are cancelled (an action that stops then fails as a
    /// retryable error and its claim is released), and the call waits for them to end.
    /// </summary>
    /// <returns>A task that completes when no action runs.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_flights.RunningFlights()).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Their callers see the failures; shutdown only waits for the end.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private async Task<IdempotentResult<T>> RunAsync<T>(string key, string fingerprint, Func<IdempotencyContext, Task<T>> action, JsonTypeInfo<T>? resultType, CancellationToken cancellationToken)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        LeaseArguments.ThrowIfInvalidFingerprint(fingerprint, nameof(fingerprint));
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();

        var started = _time.GetTimestamp();
        using var activity = LeasingTelemetry.ActivitySource.StartActivity("leasing.idempotency.execute");
        ExecutionOutcome outcome;
        var ranHere = false;
        if (_replays?.TryGet(key, fingerprint) is { } cached)
        {
            // Seen stored lately in this process: replayed without a round trip.
            outcome = cached;
        }
        else
        {
            using var ticket = _flights.Join((key, fingerprint), flight => RunFlightAsync(flight, fingerprint, action, resultType));
            var execution = ticket.Flight.State;
            try
            {
                outcome = await AwaitFlightAsync(ticket, started, cancellationToken).ConfigureAwait(false);
            }
            catch (IdempotencyKeyReuseException)
            {
                LeasingTelemetry.FingerprintMismatches.Add(1, _tags);
                activity?.SetStatus(ActivityStatusCode.Error, "fingerprint mismatch");
                throw;
            }
            finally
            {
                if (execution.Waited)
                {
                    LeasingTelemetry.IdempotentWaits.Add(1, _tags);
                }
            }

            ranHere = ticket.IsCreator && outcome.ExecutedHere;
            if (_replays is not null && ticket.Flight.IsCurrent)
            {
                _replays.Add(key, fingerprint, outcome);

                // An eviction between the check and the add may have forgotten the key before the add landed.
                if (!ticket.Flight.IsCurrent)
                {
                    _replays.Forget(key);
                }
            }
        }

        activity?.SetTag("leasing.idempotency.replayed", !ranHere);
        if (!ranHere)
        {
            LeasingTelemetry.IdempotentReplays.Add(1, _tags);
        }

        if (outcome.Status == IdempotencyStatus.Failed)
        {
            if (ranHere)
            {
                ExceptionDispatchInfo.Throw(outcome.Error!);
            }

            throw StoredFailure.Read(key, outcome.Payload);
        }

        var value = ranHere ? (T)outcome.Value! : ResultCodec.Deserialize(outcome.Payload, resultType, _json);
        return new IdempotentResult<T>(value, !ranHere);
    }

    private async Task<ExecutionOutcome> RunActionAsync<T>(Execution execution, string fingerprint, IdempotencyClaim claim, long sentAt, Func<IdempotencyContext, Task<T>> action, JsonTypeInfo<T>? resultType)
    {
        var key = execution.Key;
        var record = claim.Existing!;
        var owner = claim.OwnerToken!;
        execution.StartExecuting(record.LeaseExpiresAt);
        var lease = new Lease(key, owner, claim.FencingToken, record.LeaseExpiresAt);
        var monitor = LeaseMonitor.Start(new ClaimHeartbeat(_store, execution, _time), lease, sentAt, owner: execution, new LeaseMonitorSettings(_options.LeaseDuration, AutoRenew: true, _time, _logger, _tags));
        LeasingTelemetry.IdempotentExecutions.Add(1, _tags);

        T value;
        using (var actionToken = CancellationTokenSource.CreateLinkedTokenSource(monitor.LeaseLost, _shutdown.Token))
        {
            var context = new IdempotencyContext(key, record.Attempt, claim.FencingToken, monitor.LeaseLost, actionToken.Token);
            try
            {
                // On the thread pool: a synchronous start of the action never runs on a caller's thread.
                value = await Task.Run(() => action(context), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return await FailAsync(key, fingerprint, owner, record.Attempt, monitor, claim.FencingToken, e).ConfigureAwait(false);
            }
        }

        byte[] payload;
        try
        {
            payload = ResultCodec.Serialize(value, resultType, _json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            // The result cannot be stored; nothing sensible to replay: give the claim back.
            await monitor.StopAsync().ConfigureAwait(false);
            await ReleaseAfterFailureAsync(key, owner, e).ConfigureAwait(false);
            throw;
        }

        return await StoreOutcomeAsync(key, fingerprint, owner, monitor, claim.FencingToken, ExecutionOutcome.Succeeded(value, payload)).ConfigureAwait(false);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // The key's flights (any fingerprint) stop being current first, so none caches what it read before the eviction,
    // and those still claiming or waiting are detached: a later call starts a new flight instead of joining one that
    // may bring back the old outcome (a flight running the action stays joinable). Then the cached replay goes.
    private void Forget(string key)
    {
        _flights.Invalidate(id => string.Equals(id.Key, key, StringComparison.Ordinal));
        _replays?.Forget(key);
    }
}
