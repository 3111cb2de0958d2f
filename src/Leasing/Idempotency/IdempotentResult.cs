namespace Leasing;

/// <summary>The result of an idempotent call.</summary>
/// <typeparam name="T">The action's result type.</typeparam>
/// <param name="Value">The action's result: from this call's execution, or replayed.</param>
/// <param name="Replayed"><see langword="true"/> when the action did not run for this call: the outcome was stored, or shared by a duplicate call in this process.</param>
public sealed record IdempotentResult<T>(T Value, bool Replayed);
