namespace Leasing;

/// <summary>What a shared idempotent execution ended with; each caller turns it into its own result.</summary>
internal sealed class ExecutionOutcome
{
    private ExecutionOutcome(bool executedHere, IdempotencyStatus status, object? value, byte[] payload, Exception? error)
    {
        ExecutedHere = executedHere;
        Status = status;
        Value = value;
        Payload = payload;
        Error = error;
    }

    /// <summary>Whether the action ran in this flight (else the outcome was stored before).</summary>
    public bool ExecutedHere { get; }

    /// <summary>Succeeded or Failed.</summary>
    public IdempotencyStatus Status { get; }

    /// <summary>The action's own result, when it ran here and succeeded.</summary>
    public object? Value { get; }

    /// <summary>The stored payload (serialised result, or the failure).</summary>
    public byte[] Payload { get; }

    /// <summary>The action's own exception, when it ran here and failed terminally.</summary>
    public Exception? Error { get; }

    public static ExecutionOutcome Succeeded(object? value, byte[] payload) => new(true, IdempotencyStatus.Succeeded, value, payload, null);

    public static ExecutionOutcome Failed(Exception error, byte[] payload) => new(true, IdempotencyStatus.Failed, null, payload, error);

    /// <summary>A stored outcome kept by the executor's replay cache.</summary>
    public static ExecutionOutcome Cached(IdempotencyStatus status, byte[] payload) => new(false, status, null, payload, null);

    public static ExecutionOutcome Replay(IdempotencyRecord record) =>
        new(false, record.Status, null, record.Result?.ToArray() ?? [], null);
}
