namespace Leasing;

/// <summary>
/// A lease held on a key (or on a member of a pool). The lease is proof of ownership until
/// <see cref="ExpiresAt"/> on the backend's clock; renew it before then or assume it lost.
/// </summary>
/// <param name="Key">The leased key, or the member id when <see cref="Pool"/> is set.</param>
/// <param name="Token">The owner token (128 random bits). It proves ownership to the store and is never logged.</param>
/// <param name="FencingToken">
/// A number greater than every fencing token the backend issued before for this key. Pass it to
/// downstream systems so they can reject writes from a holder that lost its lease.
/// </param>
/// <param name="ExpiresAt">When the lease expires, on the backend's clock. Do not compare it with the local clock.</param>
public sealed record Lease(string Key, string Token, long FencingToken, DateTimeOffset ExpiresAt)
{
    /// <summary>The pool this lease belongs to, or <see langword="null"/> for a single key (a lock).</summary>
    public string? Pool { get; init; }

    /// <summary>Describes the lease without its owner token, which must not reach logs.</summary>
    /// <returns>The key, pool, fencing token and expiry.</returns>
    public override string ToString() =>
        Pool is null
            ? $"Lease {{ Key = {Key}, FencingToken = {FencingToken}, ExpiresAt = {ExpiresAt:O} }}"
            : $"Lease {{ Pool = {Pool}, Key = {Key}, FencingToken = {FencingToken}, ExpiresAt = {ExpiresAt:O} }}";
}
