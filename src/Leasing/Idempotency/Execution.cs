namespace Leasing;

/// <summary>Where a shared idempotent execution stands; its callers decide from it how long to wait.</summary>
internal enum ExecutionPhase
{
    /// <summary>Asking the store for the key.</summary>
    Claiming,

    /// <summary>The key is in progress elsewhere: waiting for its outcome or its owner's death.</summary>
    Waiting,

    /// <summary>This process owns the key and runs the action.</summary>
    Executing,
}

/// <summary>The state one in-process flight of an idempotent call shares with its callers.</summary>
internal sealed class Execution(string key)
{
    private readonly Lock _gate = new();
    private ExecutionPhase _phase;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IdempotencyRecord? _observed;
    private DateTimeOffset _leaseEnd;

    public string Key { get; } = key;

    /// <summary>Whether the flight ever waited for an execution elsewhere.</summary>
    public bool Waited { get; private set; }

    /// <summary>The phase and a task that completes when it next changes.</summary>
    public (ExecutionPhase Phase, Task Changed) Snapshot()
    {
        lock (_gate)
        {
            return (_phase, _changed.Task);
        }
    }

    /// <summary>The key was found in progress elsewhere, as <paramref name="record"/> says.</summary>
    public void ObserveInProgress(IdempotencyRecord? record)
    {
        lock (_gate)
        {
            _observed = record;
            Waited = true;
            SetPhase(ExecutionPhase.Waiting);
        }
    }

    /// <summary>This process claimed the key; its lease ends at about <paramref name="leaseEnd"/> (backend time).</summary>
    public void StartExecuting(DateTimeOffset leaseEnd)
    {
        lock (_gate)
        {
            _leaseEnd = leaseEnd;
            SetPhase(ExecutionPhase.Executing);
        }
    }

    /// <summary>A heartbeat moved the lease end.</summary>
    public void ExtendLease(DateTimeOffset leaseEnd)
    {
        lock (_gate)
        {
            if (leaseEnd > _leaseEnd)
            {
                _leaseEnd = leaseEnd;
            }
        }
    }

    /// <summary>When the current owner's lease ends (backend time), as last seen.</summary>
    public DateTimeOffset? LeaseEnd()
    {
        lock (_gate)
        {
            return _phase switch
            {
                ExecutionPhase.Executing => _leaseEnd,
                ExecutionPhase.Waiting => _observed?.LeaseExpiresAt,
                _ => null,
            };
        }
    }

    private void SetPhase(ExecutionPhase phase)
    {
        if (_phase == phase)
        {
            return;
        }

        _phase = phase;
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }
}
