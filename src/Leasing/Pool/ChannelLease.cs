namespace Leasing;

/// <summary>A leased channel.</summary>
public sealed class ChannelLease : IAsyncDisposable
{
    private ChannelLease()
    {
    }

    /// <summary>The channel id.</summary>
    public string ChannelId { get; } = string.Empty;

    /// <summary>The fencing token.</summary>
    public long FencingToken { get; }

    /// <summary>Expiry.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Lost.</summary>
    public CancellationToken LeaseLost { get; }

    /// <summary>Renew.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when renewed.</returns>
    public ValueTask<bool> RenewAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Release.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when released.</returns>
    public ValueTask<bool> ReleaseAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <summary>Release with cooldown.</summary>
    /// <param name="cooldown">The cooldown.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>True when cooling down.</returns>
    public ValueTask<bool> ReleaseWithCooldownAsync(TimeSpan? cooldown = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
