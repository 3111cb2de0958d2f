// Compiled into each package that needs it (linked source, internal in each): the packages share
// no internals.
namespace Leasing.Internal;

/// <summary>Where an item keeps its position in an <see cref="IndexedMinHeap{TItem, TSlot}"/> (-1 when not in it).</summary>
/// <typeparam name="TItem">The item type.</typeparam>
internal interface IHeapSlot<TItem>
{
    /// <summary>The item's position field.</summary>
    /// <param name="item">The item.</param>
    /// <returns>A reference to the field.</returns>
    static abstract ref int Of(TItem item);
}

/// <summary>
/// A binary min-heap of items on a long key, with each item's position kept in the item itself
/// (its <typeparamref name="TSlot"/>), so removing or re-keying any item costs O(log N) and nothing
/// is allocated once the array has grown. Keys sit next to the item reference so sifting never
/// dereferences an item just to compare. Not thread-safe: the owner locks.
/// </summary>
/// <typeparam name="TItem">The item type.</typeparam>
/// <typeparam name="TSlot">Which field of the item holds its position (an item can sit in several heaps, one slot each).</typeparam>
internal sealed class IndexedMinHeap<TItem, TSlot>
    where TItem : class
    where TSlot : struct, IHeapSlot<TItem>
{
    private Entry[] _entries = new Entry[8];
    private int _count;

    /// <summary>The number of items.</summary>
    public int Count => _count;

    /// <summary>The smallest key; only valid when <see cref="Count"/> &gt; 0.</summary>
    public long MinKey => _entries[0].Key;

    /// <summary>The item with the smallest key; only valid when <see cref="Count"/> &gt; 0.</summary>
    public TItem Min => _entries[0].Item;

    /// <summary>Whether <paramref name="item"/> is in a heap of this slot.</summary>
    /// <param name="item">The item.</param>
    /// <returns>True when its slot holds a position.</returns>
    public static bool Contains(TItem item) => TSlot.Of(item) >= 0;

    /// <summary>Adds an item that is not in the heap.</summary>
    /// <param name="item">The item.</param>
    /// <param name="key">Its key.</param>
    public void Push(TItem item, long key)
    {
        if (_count == _entries.Length)
        {
            Array.Resize(ref _entries, _count * 2);
        }

        SiftUp(_count++, new Entry(key, item));
    }

    /// <summary>Adds the item, or moves it to <paramref name="key"/> when it is in the heap already.</summary>
    /// <param name="item">The item.</param>
    /// <param name="key">Its key.</param>
    public void PushOrChangeKey(TItem item, long key)
    {
        if (Contains(item))
        {
            ChangeKey(item, key);
        }
        else
        {
            Push(item, key);
        }
    }

    /// <summary>Removes and returns the item with the smallest key; only valid when <see cref="Count"/> &gt; 0.</summary>
    /// <returns>The item.</returns>
    public TItem Pop()
    {
        var top = _entries[0].Item;
        RemoveAt(0);
        return top;
    }

    /// <summary>Removes an item that is in the heap.</summary>
    /// <param name="item">The item.</param>
    public void Remove(TItem item) => RemoveAt(TSlot.Of(item));

    /// <summary>Gives an item that is in the heap a new key.</summary>
    /// <param name="item">The item.</param>
    /// <param name="key">Its new key.</param>
    public void ChangeKey(TItem item, long key)
    {
        var index = TSlot.Of(item);
        var entry = new Entry(key, item);
        if (index > 0 && key < _entries[(index - 1) >> 1].Key)
        {
            SiftUp(index, entry);
        }
        else
        {
            SiftDown(index, entry);
        }
    }

    /// <summary>Replaces the contents with <paramref name="items"/> keyed by <paramref name="keyOf"/>, in O(N).</summary>
    /// <param name="items">The new items.</param>
    /// <param name="keyOf">The key of each.</param>
    public void Rebuild(List<TItem> items, Func<TItem, long> keyOf)
    {
        for (var i = 0; i < _count; i++)
        {
            TSlot.Of(_entries[i].Item) = -1;
        }

        if (_entries.Length < items.Count)
        {
            _entries = new Entry[Math.Max(8, items.Count)];
        }
        else
        {
            Array.Clear(_entries, 0, _count);
        }

        _count = items.Count;
        for (var i = 0; i < _count; i++)
        {
            _entries[i] = new Entry(keyOf(items[i]), items[i]);
            TSlot.Of(items[i]) = i;
        }

        for (var i = (_count >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, _entries[i]);
        }
    }

    private void RemoveAt(int index)
    {
        TSlot.Of(_entries[index].Item) = -1;
        var last = _entries[--_count];
        _entries[_count] = default;
        if (index == _count)
        {
            return;
        }

        if (index > 0 && last.Key < _entries[(index - 1) >> 1].Key)
        {
            SiftUp(index, last);
        }
        else
        {
            SiftDown(index, last);
        }
    }

    // Moves a hole from index upwards until entry fits, then places entry there.
    private void SiftUp(int index, Entry entry)
    {
        while (index > 0)
        {
            var parent = (index - 1) >> 1;
            if (_entries[parent].Key <= entry.Key)
            {
                break;
            }

            Place(index, _entries[parent]);
            index = parent;
        }

        Place(index, entry);
    }

    private void SiftDown(int index, Entry entry)
    {
        while (true)
        {
            var child = (index << 1) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _entries[child + 1].Key < _entries[child].Key)
            {
                child++;
            }

            if (entry.Key <= _entries[child].Key)
            {
                break;
            }

            Place(index, _entries[child]);
            index = child;
        }

        Place(index, entry);
    }

    private void Place(int index, Entry entry)
    {
        _entries[index] = entry;
        TSlot.Of(entry.Item) = index;
    }

    private readonly record struct Entry(long Key, TItem Item);
}
