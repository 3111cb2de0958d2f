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
public sealed class IdempotentExecutor : IAsyncDisposable
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
        _replays = options.ReplayCacheDuration > TimeSpan.Zero ? new ReplayCache(options.ReplayCacheDuration, _time) : null;
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
            _replays?.Add(key, fingerprint, outcome);
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

                    await signal.WaitAsync(Jitter(poll), _time, waiting.Token).ConfigureAwait(false);
                    poll = poll * 2 < MaxPoll ? poll * 2 : MaxPoll;
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
                poll = poll * 2 < MaxPoll ? poll * 2 : MaxPoll;
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
                    await Task.Delay(Jitter(delay), _time).ConfigureAwait(false);
                    delay = delay * 2 < MaxPoll ? delay * 2 : MaxPoll;
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

    private bool IsLate(long sentAt) => AbandonedGrants.IsLate(sentAt, _options.LeaseDuration, _time);

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

    private static TimeSpan Jitter(TimeSpan delay) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (0.5 + (Random.Shared.NextDouble() * 0.5))));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class NoSubscription : IAsyncDisposable
    {
        public static readonly NoSubscription Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
