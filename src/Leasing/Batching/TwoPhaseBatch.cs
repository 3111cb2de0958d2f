using System.Collections;

namespace Leasing.Batching;

/// <summary>
/// One batch handed to the commit (phase 2) under the lock: the items whose patches were prepared.
/// Re-read each item's current state and apply its patch (never write a snapshot taken in phase 1);
/// guard the writes with <see cref="FencingToken"/>; report an item that cannot be committed with
/// <see cref="Fail"/> and go on with the others.
/// </summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <typeparam name="TPatch">The patch type.</typeparam>
public sealed class TwoPhaseBatch<TItem, TPatch> : IReadOnlyList<PreparedItem<TItem, TPatch>>
{
    private readonly PreparedItem<TItem, TPatch>[] _items;
    private readonly List<TwoPhaseItemFailure<TItem>> _failures = [];

    internal TwoPhaseBatch(int index, PreparedItem<TItem, TPatch>[] items, long fencingToken)
    {
        Index = index;
        _items = items;
        FencingToken = fencingToken;
    }

    /// <summary>The batch number, from 0.</summary>
    public int Index { get; }

    /// <summary>The lock's fencing token for this batch: pass it to the store the commit writes, so it rejects a writer that lost the lock.</summary>
    public long FencingToken { get; }

    /// <inheritdoc/>
    public int Count => _items.Length;

    internal IReadOnlyList<TwoPhaseItemFailure<TItem>> Failures
    {
        get
        {
            lock (_failures)
            {
                return [.. _failures];
            }
        }
    }

    /// <inheritdoc/>
    public PreparedItem<TItem, TPatch> this[int index] => _items[index];

    /// <summary>Reports that one item could not be committed; the batch goes on. Thread-safe.</summary>
    /// <param name="item">The item.</param>
    /// <param name="error">Why.</param>
    public void Fail(TItem item, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        lock (_failures)
        {
            _failures.Add(new TwoPhaseItemFailure<TItem>(item, TwoPhaseStage.Commit, error));
        }
    }

    /// <inheritdoc/>
    public IEnumerator<PreparedItem<TItem, TPatch>> GetEnumerator() => ((IEnumerable<PreparedItem<TItem, TPatch>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
