namespace Leasing.Batching;

/// <summary>One item that failed in a <see cref="TwoPhaseProcessor"/> run; the run went on.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Stage">Where it failed.</param>
/// <param name="Error">Why.</param>
public sealed record TwoPhaseItemFailure<TItem>(TItem Item, TwoPhaseStage Stage, Exception Error);
