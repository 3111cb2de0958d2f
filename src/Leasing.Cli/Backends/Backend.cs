namespace Leasing.Cli.Backends;

/// <summary>An open backend: its lease store, its idempotency store (when the build has one) and what to close afterwards.</summary>
internal sealed class Backend(BackendChoice choice, ILeaseStore leases, IIdempotencyStore? idempotency, Func<ValueTask>? close = null) : IAsyncDisposable
{
    public BackendChoice Choice { get; } = choice;

    public ILeaseStore Leases { get; } = leases;

    public IIdempotencyStore? Idempotency { get; } = idempotency;

    public ValueTask DisposeAsync() => close?.Invoke() ?? ValueTask.CompletedTask;
}
