using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>Leases one of N named channels, least-recently-used first.</summary>
public sealed class ChannelPool : IAsyncDisposable
{
    /// <summary>Creates a pool.</summary>
    /// <param name="store">The lease store.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    public ChannelPool(ILeaseStore store, ChannelPoolOptions options, TimeProvider? timeProvider = null, ILogger<ChannelPool>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ChannelPoolOptionsValidator.ThrowIfInvalid(options, nameof(options));
        Name = options.Name;
        _ = timeProvider;
        _ = logger;
    }

    /// <summary>The pool name.</summary>
    public string Name { get; }

    /// <summary>Acquires a channel.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The lease.</returns>
    public ValueTask<ChannelLease> AcquireAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Tries once.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease or null.</returns>
    public ValueTask<ChannelLease?> TryAcquireAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Tries one channel.</summary>
    /// <param name="channelId">The channel.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The lease or null.</returns>
    public ValueTask<ChannelLease?> TryAcquireChannelAsync(string channelId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Status.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The status.</returns>
    public ValueTask<IReadOnlyList<ChannelStatus>> GetStatusAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
