using System.Collections.Concurrent;
using Leasing.InMemory.Idempotency;

namespace Leasing.InMemory;

/// <summary>
/// A process-local <see cref="IIdempotencyStore"/> with the exact semantics of the distributed
/// backends, driven by a <see cref="TimeProvider"/> (so tests can use a fake clock). Thread-safe;
/// for tests, single-process apps, and as the embedded default.
/// </summary>
/// <remarks>
/// <para>The backend clock is the <see cref="TimeProvider"/>: lease expiry, retention and fencing
/// tokens come from it. Every call completes synchronously and never reports an outage.</para>
/// <para>A completed record is kept for its retention. A record that never completed (released, or
/// whose owner's lease ran out) keeps its fingerprint and attempt count for a day after its claim
/// ended, then goes. <see cref="IdempotencyStore.CompleteAsync"/> and <see cref="IdempotencyStore.ReleaseAsync"/> succeed while the
/// caller's claim is still the key's latest one, even past its lease if nobody reclaimed the key;
/// <see cref="IdempotencyStore.HeartbeatAsync"/> needs an unexpired lease.</para>
/// <para>Completion signals (<see cref="IIdempotencyCompletionSource"/>) reach subscribers in this
/// process on complete, release and evict; not when a lease simply expires.</para>
/// </remarks>
public sealed class InMemoryIdempotencyStore : IdempotencyStore, IIdempotencyCompletionSource
{
    private static readonly TimeSpan UnfinishedRetention = TimeSpan.FromDays(1);

    private readonly TimeProvider _time;
    private readonly SweptTable<IdempotencyEntry> _entries;
    private readonly ConcurrentDictionary<string, Action[]> _subscribers = new(StringComparer.Ordinal);
    private readonly Lock _subscribersGate = new();

    /// <inheritdoc />
    public override string BackendName => "memory";

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The backend clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public InMemoryIdempotencyStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _entries = new SweptTable<IdempotencyEntry>(_time);
    }

    /// <summary>Entries currently stored, including evicted and expired ones not yet swept (tests of the sweep).</summary>
    internal int EntryCount => _entries.Count;

    /// <inheritdoc/>
    protected override ValueTask<IdempotencyClaim> TryClaimCoreAsync(string key, string fingerprint, TimeSpan lease, CancellationToken cancellationToken) =>
        new(Claim(key, fingerprint, lease));

    /// <inheritdoc/>
    protected override ValueTask<bool> HeartbeatCoreAsync(string key, string ownerToken, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return new ValueTask<bool>(false);
        }

        lock (entry.Gate)
        {
            var now = _time.GetUtcNow();
            if (entry.Removed || !entry.IsOwnedBy(ownerToken, now.UtcTicks) || entry.LeaseExpiresAtTicks <= now.UtcTicks)
            {
                return new ValueTask<bool>(false);
            }

            entry.LeaseExpiresAtTicks = (now + lease).UtcTicks;
            entry.RecordExpiresAtTicks = (now + lease + UnfinishedRetention).UtcTicks;
            return new ValueTask<bool>(true);
        }
    }

    /// <inheritdoc/>
    protected override ValueTask<bool> CompleteCoreAsync(string key, string ownerToken, IdempotencyOutcome outcome, ReadOnlyMemory<byte> payload, TimeSpan retention, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return new ValueTask<bool>(false);
        }

        var stored = payload.ToArray();
        lock (entry.Gate)
        {
            var now = _time.GetUtcNow();
            if (entry.Removed || !entry.IsOwnedBy(ownerToken, now.UtcTicks))
            {
                return new ValueTask<bool>(false);
            }

            entry.Status = outcome == IdempotencyOutcome.Succeeded ? IdempotencyStatus.Succeeded : IdempotencyStatus.Failed;
            entry.OwnerToken = null;
            entry.Result = stored;
            entry.LeaseExpiresAtTicks = entry.RecordExpiresAtTicks = (now + retention).UtcTicks;
        }

        Notify(key);
        return new ValueTask<bool>(true);
    }

    /// <inheritdoc/>
    protected override ValueTask<bool> ReleaseCoreAsync(string key, string ownerToken, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return new ValueTask<bool>(false);
        }

        lock (entry.Gate)
        {
            var now = _time.GetUtcNow();
            if (entry.Removed || !entry.IsOwnedBy(ownerToken, now.UtcTicks))
            {
                return new ValueTask<bool>(false);
            }

            entry.Status = IdempotencyStatus.Released;
            entry.OwnerToken = null;
            entry.LeaseExpiresAtTicks = now.UtcTicks;
            entry.RecordExpiresAtTicks = (now + UnfinishedRetention).UtcTicks;
        }

        Notify(key);
        return new ValueTask<bool>(true);
    }

    /// <inheritdoc/>
    protected override ValueTask<IdempotencyRecord?> GetCoreAsync(string key, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            lock (entry.Gate)
            {
                if (!entry.Removed && entry.IsLive(_time.GetUtcNow().UtcTicks))
                {
                    return new ValueTask<IdempotencyRecord?>(entry.ToRecord(key));
                }
            }
        }

        return new ValueTask<IdempotencyRecord?>((IdempotencyRecord?)null);
    }

    /// <inheritdoc/>
    /// <remarks>The key's fencing counter survives: the next claim still gets a higher fencing token.</remarks>
    protected override ValueTask<bool> EvictCoreAsync(string key, CancellationToken cancellationToken)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return new ValueTask<bool>(false);
        }

        lock (entry.Gate)
        {
            if (entry.Removed || !entry.IsLive(_time.GetUtcNow().UtcTicks))
            {
                return new ValueTask<bool>(false);
            }

            entry.Exists = false;
            entry.OwnerToken = null;
            entry.Result = null;
        }

        Notify(key);
        return new ValueTask<bool>(true);
    }

    /// <inheritdoc/>
    /// <remarks>In process only: called on complete, release and evict. Costs nothing while nobody subscribes.</remarks>
    public ValueTask<IAsyncDisposable> SubscribeToCompletionAsync(string key, Action onCompleted, CancellationToken cancellationToken = default)
    {
        LeaseArguments.ThrowIfInvalidKey(key, nameof(key));
        ArgumentNullException.ThrowIfNull(onCompleted);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<IAsyncDisposable>(cancellationToken);
        }

        lock (_subscribersGate)
        {
            _subscribers[key] = _subscribers.TryGetValue(key, out var current) ? [.. current, onCompleted] : [onCompleted];
        }

        return new ValueTask<IAsyncDisposable>(new CompletionSubscription(this, key, onCompleted));
    }

    internal void Unsubscribe(string key, Action onCompleted)
    {
        lock (_subscribersGate)
        {
            if (!_subscribers.TryGetValue(key, out var current))
            {
                return;
            }

            var index = Array.IndexOf(current, onCompleted);
            if (index < 0)
            {
                return;
            }

            if (current.Length == 1)
            {
                _subscribers.TryRemove(key, out _);
            }
            else
            {
                _subscribers[key] = [.. current.AsSpan(0, index), .. current.AsSpan(index + 1)];
            }
        }
    }

    private IdempotencyClaim Claim(string key, string fingerprint, TimeSpan lease)
    {
        while (true)
        {
            var entry = GetOrAdd(key);
            lock (entry.Gate)
            {
                if (entry.Removed)
                {
                    continue;
                }

                var now = _time.GetUtcNow();
                var attempt = 1;
                if (entry.IsLive(now.UtcTicks))
                {
                    // The fingerprint is checked before anything else: reused keys never replay or wait.
                    if (!string.Equals(entry.Fingerprint, fingerprint, StringComparison.Ordinal))
                    {
                        return new IdempotencyClaim(ClaimOutcome.FingerprintMismatch, null, entry.Fencing, entry.ToRecord(key));
                    }

                    if (entry.Status is IdempotencyStatus.Succeeded or IdempotencyStatus.Failed)
                    {
                        return new IdempotencyClaim(ClaimOutcome.Completed, null, entry.Fencing, entry.ToRecord(key));
                    }

                    if (entry.Status == IdempotencyStatus.InProgress && entry.LeaseExpiresAtTicks > now.UtcTicks)
                    {
                        return new IdempotencyClaim(ClaimOutcome.InProgress, null, entry.Fencing, entry.ToRecord(key));
                    }

                    // Released, or the owner's lease ran out: reclaim and count the attempt.
                    attempt = entry.Attempt + 1;
                }

                var token = OwnerTokens.Create();
                var expiresAt = now + lease;
                entry.Exists = true;
                entry.Status = IdempotencyStatus.InProgress;
                entry.Fingerprint = fingerprint;
                entry.OwnerToken = token;
                entry.LeaseExpiresAtTicks = expiresAt.UtcTicks;
                entry.RecordExpiresAtTicks = (expiresAt + UnfinishedRetention).UtcTicks;
                entry.Result = null;
                entry.Attempt = attempt;
                entry.Fencing = Fencing.Next(entry.Fencing, now);
                return new IdempotencyClaim(ClaimOutcome.Claimed, token, entry.Fencing, entry.ToRecord(key));
            }
        }
    }

    private void Notify(string key)
    {
        if (_subscribers.TryGetValue(key, out var current))
        {
            foreach (var callback in current)
            {
                callback();
            }
        }
    }

    private IdempotencyEntry GetOrAdd(string key) => _entries.GetOrAdd(key);
}
