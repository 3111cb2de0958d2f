using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization.Metadata;

namespace Leasing;

/// <summary>
/// The fenced-state calls of <see cref="ChannelLease"/> and <see cref="LockHandle"/>: reads, and writes that
/// the store accepts only under the handle's live lease. A refused write marks the lease lost.
/// </summary>
internal static class FencedState
{
    internal const string ReflectionMessage = "Serialises with reflection over T; use the overload taking a JsonTypeInfo<T> in trimmed or AOT apps.";

    public static ValueTask<LeaseStateValue?> GetBytesAsync(ILeaseStore store, LeaseMonitor monitor, CancellationToken cancellationToken)
    {
        var lease = monitor.Lease;
        return store.ReadStateAsync(lease.Key, lease.Pool, cancellationToken);
    }

    public static async ValueTask<T?> GetAsync<T>(ILeaseStore store, LeaseMonitor monitor, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        var value = await GetBytesAsync(store, monitor, cancellationToken).ConfigureAwait(false);
        return value is null ? default : ResultCodec.Deserialize(value.Data.Span, typeInfo, null);
    }

    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    public static async ValueTask<T?> GetAsync<T>(ILeaseStore store, LeaseMonitor monitor, CancellationToken cancellationToken)
    {
        var value = await GetBytesAsync(store, monitor, cancellationToken).ConfigureAwait(false);
        return value is null ? default : ResultCodec.Deserialize<T>(value.Data.Span, null, null);
    }

    /// <summary>
    /// Writes under the handle's lease: false without I/O when the handle was released or its lease is
    /// already known lost; a refusal by the store marks the lease lost (LeaseLost fires).
    /// </summary>
    public static async ValueTask<bool> TrySetBytesAsync(ILeaseStore store, LeaseMonitor monitor, bool released, ReadOnlyMemory<byte> state, string paramName, CancellationToken cancellationToken)
    {
        LeaseArguments.ThrowIfInvalidState(state, paramName);
        cancellationToken.ThrowIfCancellationRequested();
        if (released || monitor.IsLost)
        {
            return false;
        }

        if (await store.WriteStateAsync(monitor.Lease, state, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        monitor.MarkLost();
        return false;
    }

    public static ValueTask<bool> TrySetAsync<T>(ILeaseStore store, LeaseMonitor monitor, bool released, T value, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return TrySetBytesAsync(store, monitor, released, ResultCodec.Serialize(value, typeInfo, null), nameof(value), cancellationToken);
    }

    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    public static ValueTask<bool> TrySetAsync<T>(ILeaseStore store, LeaseMonitor monitor, bool released, T value, CancellationToken cancellationToken) =>
        TrySetBytesAsync(store, monitor, released, ResultCodec.Serialize(value, null, null), nameof(value), cancellationToken);
}
