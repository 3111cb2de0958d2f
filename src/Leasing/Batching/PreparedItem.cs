namespace Leasing.Batching;

/// <summary>An item and the patch phase 1 prepared for it.</summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <typeparam name="TPatch">The patch type.</typeparam>
/// <param name="Item">The item.</param>
/// <param name="Patch">Its patch: apply it to the item's fresh state, read under the lock.</param>
public readonly record struct PreparedItem<TItem, TPatch>(TItem Item, TPatch Patch);
