namespace Leasing;

/// <summary>What <see cref="ILeaseStore.ReleaseAndAcquireLeastRecentlyUsedAsync"/> did: the release, and the lease it took next.</summary>
/// <param name="Released"><see langword="true"/> when the given lease was still ours and is released; <see langword="false"/> when it was not (nothing changed, nothing acquired).</param>
/// <param name="Acquired">The least-recently-used free member claimed after the release (with a new owner and fencing token), or <see langword="null"/>.</param>
/// <param name="MembersOutdated"><see langword="true"/> when the release happened but nothing was claimed because the backend does not know the pool or holds an older member list than the one asked for.</param>
public readonly record struct ReleaseAndAcquireResult(bool Released, Lease? Acquired, bool MembersOutdated);
