using System.Diagnostics.CodeAnalysis;

namespace Leasing;

/// <summary>The outcome of <see cref="DistributedLock.TryRunExclusiveAsync"/>.</summary>
/// <typeparam name="T">The work's result type.</typeparam>
/// <param name="Acquired">Whether the lock was taken and the work ran.</param>
/// <param name="Value">The work's result when it ran.</param>
/// <param name="Skipped">Why the work did not run; <see langword="null"/> when it ran.</param>
public readonly record struct LockResult<T>(
    [property: MemberNotNullWhen(true, nameof(LockResult<T>.Value))] bool Acquired,
    T? Value,
    LockSkipReason? Skipped);
