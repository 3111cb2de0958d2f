namespace Leasing;

/// <summary>
/// The in-process guard entry of one key on one <see cref="DistributedLock"/>: present from the moment
/// a caller starts taking the lock until it is released, so a second caller here is answered without
/// a round trip.
/// </summary>
internal sealed class LockHolder
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LeaseMonitor? _monitor;

    /// <summary>Completes when the entry leaves the guard (released, or the acquire failed).</summary>
    public Task Released => _released.Task;

    /// <summary>Whether the entry still guards the key: taking the lock, or holding a lease not known lost.</summary>
    public bool IsActive => !_released.Task.IsCompleted && Volatile.Read(ref _monitor) is not { IsLost: true };

    public void Hold(LeaseMonitor monitor) => Volatile.Write(ref _monitor, monitor);

    public void Leave() => _released.TrySetResult();
}
