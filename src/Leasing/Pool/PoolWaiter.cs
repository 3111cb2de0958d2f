namespace Leasing;

/// <summary>One caller waiting for a channel. Completed exactly once: delivered, timed out (null), cancelled or failed.</summary>
internal sealed class PoolWaiter
{
    private readonly TaskCompletionSource<ChannelLease?> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<ChannelLease?> Task => _result.Task;

    public bool IsCompleted => _result.Task.IsCompleted;

    public bool TryDeliver(ChannelLease lease) => _result.TrySetResult(lease);

    public void TryTimeOut() => _result.TrySetResult(null);

    public void TryCancel(CancellationToken token) => _result.TrySetCanceled(token);

    public void TryFail(Exception exception) => _result.TrySetException(exception);
}
