using FluentAssertions;
using Xunit;

namespace Leasing.Testing;

/// <summary>
/// The <see cref="IdempotentExecutor"/> behaviour of docs/architecture.md#idempotent-executor over a real <see cref="IIdempotencyStore"/>,
/// written once and run unchanged on every backend: a backend's test project subclasses it and
/// supplies <see cref="CreateBackendAsync"/>. "Another instance" is another executor over another
/// store object (<see cref="IdempotencyBackend.CreateStore"/>).
/// </summary>
/// <remarks>
/// Time passes through <see cref="IdempotencyBackend.PassAsync"/> (a fake clock in memory, real
/// waiting on servers); the executor runs on <see cref="IdempotencyBackend.TimeProvider"/>. Round
/// trips are counted with <see cref="CountingIdempotencyStore"/>. The tests live in the Idempotency
/// folder, one partial file per part of the behaviour.
/// </remarks>
public abstract partial class IdempotentExecutorConformanceTests : IAsyncLifetime
{
    /// <summary>A lease or wait that outlives any test.</summary>
    protected static readonly TimeSpan LongTtl = TimeSpan.FromMinutes(5);

    private readonly List<IdempotentExecutor> executors = [];
    private IdempotencyBackend? backend;

    /// <summary>The backend under test, created per test.</summary>
    protected IdempotencyBackend Backend => backend ?? throw new InvalidOperationException("The backend is created in InitializeAsync.");

    /// <summary>The backend's unit of lease time.</summary>
    protected TimeSpan Ttl => Backend.Ttl;

    /// <summary>Creates the backend for one test; it is disposed after the test.</summary>
    protected abstract ValueTask<IdempotencyBackend> CreateBackendAsync();

    /// <inheritdoc/>
    public async Task InitializeAsync() => backend = await CreateBackendAsync();

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        // Disposal waits for running actions; one that ignores its token would hang the run.
        foreach (var executor in executors)
        {
            await executor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(15));
        }

        if (backend is not null)
        {
            await backend.DisposeAsync();
        }
    }

    /// <summary>An executor over a new store object (another app instance), counting its round trips.</summary>
    protected (IdempotentExecutor Executor, CountingIdempotencyStore Store) CreateExecutor(Action<IdempotencyOptions>? configure = null)
    {
        var options = new IdempotencyOptions { LeaseDuration = LongTtl, WaitForInProgress = LongTtl };
        configure?.Invoke(options);
        var store = new CountingIdempotencyStore(Backend.CreateStore());
        var executor = new IdempotentExecutor(store, options, Backend.TimeProvider);
        executors.Add(executor);
        return (executor, store);
    }

    /// <summary>An executor over a new store object that injects faults (lost completions, outages).</summary>
    /// <param name="configure">Changes the options.</param>
    /// <param name="clock">The executor's clock; default the backend's.</param>
    protected (IdempotentExecutor Executor, FaultyIdempotencyStore Store) CreateFaultyExecutor(Action<IdempotencyOptions>? configure = null, TimeProvider? clock = null)
    {
        var options = new IdempotencyOptions { LeaseDuration = LongTtl, WaitForInProgress = LongTtl };
        configure?.Invoke(options);
        var store = new FaultyIdempotencyStore(Backend.CreateStore());
        var executor = new IdempotentExecutor(store, options, clock ?? Backend.TimeProvider);
        executors.Add(executor);
        return (executor, store);
    }

    /// <summary>
    /// Lets backend time pass in steps of <paramref name="step"/> until <paramref name="task"/> ends
    /// or <paramref name="total"/> has passed, giving background work a moment after each step.
    /// </summary>
    protected async Task PassUntilAsync(Task task, TimeSpan step, TimeSpan total)
    {
        for (var passed = TimeSpan.Zero; passed < total && !task.IsCompleted; passed += step)
        {
            await Backend.PassAsync(step);
            await Task.WhenAny(task, Task.Delay(Backend.IsTimeVirtual ? 20 : 1));
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

    /// <summary>A result with structure, so equality of replays means more than equal integers.</summary>
    public sealed record Receipt(string Id, decimal Amount, IReadOnlyList<string> Lines)
    {
        public bool Equals(Receipt? other) =>
            other is not null && Id == other.Id && Amount == other.Amount && Lines.SequenceEqual(other.Lines);

        public override int GetHashCode() => HashCode.Combine(Id, Amount, Lines.Count);
    }

    /// <summary>An input to fingerprint.</summary>
    public sealed record Charge(string Account, decimal Amount);
}
