namespace Leasing;

/// <summary>
/// What an idempotent action may learn about its claim. Pass <see cref="FencingToken"/> to what the
/// action writes, so a downstream system can reject an owner that outlived its lease.
/// </summary>
public sealed class IdempotencyContext
{
    internal IdempotencyContext(string key, int attempt, long fencingToken, CancellationToken leaseLost, CancellationToken cancellationToken)
    {
        Key = key;
        Attempt = attempt;
        FencingToken = fencingToken;
        LeaseLost = leaseLost;
        CancellationToken = cancellationToken;
    }

    /// <summary>The idempotency key.</summary>
    public string Key { get; }

    /// <summary>How many times the key was claimed, this claim included (1 on the first run).</summary>
    public int Attempt { get; }

    /// <summary>The fencing number of this claim: greater than every one issued before for the key.</summary>
    public long FencingToken { get; }

    /// <summary>Cancelled when the claim is found lost, or its local deadline passes without a confirmed heartbeat.</summary>
    public CancellationToken LeaseLost { get; }

    /// <summary>
    /// The action's token: cancelled on lease loss or when the executor shuts down, never because
    /// the callers went away (a half-done action must not be abandoned and run again).
    /// </summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Describes the context.</summary>
    /// <returns>The key, attempt and fencing token.</returns>
    public override string ToString() => $"IdempotencyContext {{ Key = {Key}, Attempt = {Attempt}, FencingToken = {FencingToken} }}";
}
