namespace Leasing;

/// <summary>
/// The fenced state of a key or pool member, as read by <see cref="ILeaseStore.ReadStateAsync"/>: the
/// bytes the last accepted write stored, the fencing token of the lease that wrote them, and when.
/// </summary>
/// <param name="Data">The stored bytes (at most <see cref="LeaseArguments.MaxStateBytes"/>; may be empty).</param>
/// <param name="FencingToken">The fencing token of the lease whose write stored <paramref name="Data"/>.</param>
/// <param name="WrittenAt">When the write was accepted, on the backend's clock.</param>
public sealed record LeaseStateValue(ReadOnlyMemory<byte> Data, long FencingToken, DateTimeOffset WrittenAt)
{
    /// <summary>Describes the state without its bytes.</summary>
    /// <returns>The size, fencing token and write time.</returns>
    public override string ToString() => $"LeaseStateValue {{ Bytes = {Data.Length}, FencingToken = {FencingToken}, WrittenAt = {WrittenAt:O} }}";
}
