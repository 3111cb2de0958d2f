using Microsoft.Extensions.Logging;

namespace Leasing;

/// <summary>
/// A pool's channel list and whether the backend has it. The list is written before the first
/// acquire or status read, and again after a DI options change or when the backend lost or holds an
/// older list; <see cref="ChannelPoolOptions.MembersVersion"/> keeps a newer list from being replaced.
/// </summary>
internal sealed class PoolMembership
{
    private readonly ILeaseStore _store;
    private readonly string _pool;
    private readonly ILogger _logger;
    private readonly CancellationToken _disposed;
    private readonly Lock _gate = new();
    private MemberList _members;
    private Task? _written;

    /// <param name="store">The lease store.</param>
    /// <param name="pool">The pool name.</param>
    /// <param name="logger">The pool's logger.</param>
    /// <param name="channels">The channel list (copied).</param>
    /// <param name="version">Its version.</param>
    /// <param name="disposed">Cancelled when the pool is disposed: a write in flight stops.</param>
    public PoolMembership(ILeaseStore store, string pool, ILogger logger, IList<string> channels, long version, CancellationToken disposed)
    {
        _store = store;
        _pool = pool;
        _logger = logger;
        _disposed = disposed;
        _members = new MemberList([.. channels], version);
    }

    /// <summary>The version of the current list (sent with every acquire).</summary>
    public long Version => Volatile.Read(ref _members).Version;

    /// <summary>Whether the current list was written.</summary>
    public bool IsWritten => Volatile.Read(ref _written) is { IsCompletedSuccessfully: true };

    /// <summary>Applies a new channel list (DI options change). Written before the next acquire.</summary>
    public void Update(IList<string> channels, long version)
    {
        lock (_gate)
        {
            _members = new MemberList([.. channels], version);
            _written = null;
        }
    }

    /// <summary>The backend lost the list or holds an older one: write it again before the next acquire.</summary>
    public void Forget()
    {
        lock (_gate)
        {
            if (_members.Channels.Length > 0 && _written is { IsCompleted: true })
            {
                _written = null;
            }
        }
    }

    /// <summary>Writes the list unless it was written; concurrent callers share one write, and a failed write is tried again by the next caller.</summary>
    /// <param name="cancellationToken">Cancels this caller's wait, not the write.</param>
    /// <returns>A task that completes when the list is written.</returns>
    public ValueTask EnsureWrittenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _written) is { IsCompletedSuccessfully: true })
        {
            return ValueTask.CompletedTask;
        }

        Task? written;
        lock (_gate)
        {
            written = _written;
            if (written is null || written.IsFaulted || written.IsCanceled)
            {
                // Started on the thread pool: the store call (synchronous in memory) never runs under the gate.
                var members = _members;
                written = _written = Task.Run(() => WriteAsync(members), CancellationToken.None);
            }
        }

        return written.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(written.WaitAsync(cancellationToken));
    }

    private async Task WriteAsync(MemberList members)
    {
        try
        {
            await _store.SetPoolMembersAsync(_pool, members.Channels, members.Version, _disposed).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.MembersWriteFailed(_logger, _pool, members.Version, e);
            throw;
        }
    }

    private sealed record MemberList(string[] Channels, long Version);
}
