using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

/// <summary>
/// The <see cref="IIdempotencyStore"/> contract of docs/architecture.md#iidempotencystore, written once and run unchanged on
/// every backend: a backend's test project subclasses it and supplies <see cref="CreateBackendAsync"/>.
/// </summary>
/// <remarks>
/// <para>The state machine: a claim takes an absent, released or expired key (attempt counted, new
/// owner token, higher fencing token); otherwise it reports InProgress, Completed, or — before
/// anything else — FingerprintMismatch, and changes nothing. Heartbeat needs the caller's unexpired
/// claim. Complete and release need the caller's claim to be the key's latest one (also just past
/// its lease, if nobody reclaimed the key: the outcome of an action that ran is worth keeping).
/// Anyone else's call returns false and changes nothing. A completed record replays until its
/// retention ends, then the key is fresh (attempt 1). Evict deletes a record; fencing still grows.</para>
/// <para>Time margins hold on virtual time and on real servers with a short <see cref="IdempotencyBackend.Ttl"/>.
/// The tests live in the Idempotency folder, one partial file per part of the contract.</para>
/// </remarks>
public abstract partial class IdempotencyStoreConformanceTests : IAsyncLifetime
{
    /// <summary>A lease or retention that outlives any test.</summary>
    protected static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(5);

    /// <summary>Rounding allowed when comparing two backend timestamps (servers store milliseconds).</summary>
    protected static readonly TimeSpan TimeTolerance = TimeSpan.FromMilliseconds(5);

    private IdempotencyBackend? backend;
    private IIdempotencyStore? store;

    /// <summary>The backend under test, created per test.</summary>
    protected IdempotencyBackend Backend => backend ?? throw new InvalidOperationException("The backend is created in InitializeAsync.");

    /// <summary>A store over the backend.</summary>
    protected IIdempotencyStore Store => store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>The backend's unit of lease time.</summary>
    protected TimeSpan Ttl => Backend.Ttl;

    /// <summary>Creates the backend for one test; it is disposed after the test.</summary>
    protected abstract ValueTask<IdempotencyBackend> CreateBackendAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        backend = await CreateBackendAsync();
        store = backend.CreateStore();
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (backend is not null)
        {
            await backend.DisposeAsync();
        }
    }

    /// <summary>Lets enough backend time pass for a claim or retention of <see cref="Ttl"/> to run out.</summary>
    protected ValueTask ExpireAsync() => Backend.PassAsync(Ttl * 1.5);

    /// <summary>Lets backend time pass until <paramref name="total"/> has passed since <paramref name="since"/> (a timestamp of the backend's clock).</summary>
    protected ValueTask PassUntilAsync(long since, TimeSpan total)
    {
        var left = total - Backend.TimeProvider.GetElapsedTime(since);
        return left > TimeSpan.Zero ? Backend.PassAsync(left) : ValueTask.CompletedTask;
    }

    /// <summary>Claims and asserts success.</summary>
    protected async Task<IdempotencyClaim> ClaimAsync(string key, string fingerprint, TimeSpan lease, IIdempotencyStore? via = null)
    {
        var claim = await (via ?? Store).TryClaimAsync(key, fingerprint, lease);
        claim.Outcome.Should().Be(ClaimOutcome.Claimed, $"key {key} should be claimable ({claim})");
        claim.OwnerToken.Should().NotBeNullOrEmpty();
        return claim;
    }

    /// <summary>Reads a record and asserts it exists.</summary>
    protected async Task<IdempotencyRecord> GetAsync(string key)
    {
        var record = await Store.GetAsync(key);
        record.Should().NotBeNull($"key {key} should have a record");
        return record!;
    }

    /// <summary>Asserts that two reads of one record agree (timestamps within the backend's rounding).</summary>
    protected static void ShouldBeSameRecord(IdempotencyRecord actual, IdempotencyRecord expected)
    {
        actual.Key.Should().Be(expected.Key);
        actual.Status.Should().Be(expected.Status);
        actual.Fingerprint.Should().Be(expected.Fingerprint);
        actual.Attempt.Should().Be(expected.Attempt);
        actual.FencingToken.Should().Be(expected.FencingToken);
        actual.LeaseExpiresAt.Should().BeCloseTo(expected.LeaseExpiresAt, TimeTolerance);
        actual.Result.HasValue.Should().Be(expected.Result.HasValue);
        if (expected.Result is { } result)
        {
            actual.Result!.Value.ToArray().Should().Equal(result.ToArray());
        }
    }

    /// <summary>Runs <paramref name="count"/> calls at once on the thread pool, released together by one gate.</summary>
    protected static async Task<T[]> RaceAsync<T>(int count, Func<int, Task<T>> call)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            return await call(i);
        })).ToArray();
        gate.SetResult();
        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(1));
    }
}
