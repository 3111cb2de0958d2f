namespace Leasing.InMemory.Pools;

/// <summary>Chooses which of a member's two heap slots a <see cref="MemberHeap{TSlot}"/> maintains.</summary>
internal interface IHeapSlot
{
    static abstract ref int Of(PoolMember member);
}

/// <summary>The slot of the free (least-recently-acquired) index.</summary>
internal readonly struct FreeSlot : IHeapSlot
{
    public static ref int Of(PoolMember member) => ref member.FreeSlot;
}

/// <summary>The slot of the expiry index (held and cooling members).</summary>
internal readonly struct ExpirySlot : IHeapSlot
{
    public static ref int Of(PoolMember member) => ref member.ExpirySlot;
}

/// <summary>
/// A binary min-heap of pool members on a long key, with each member's position kept in the
/// member itself, so removing or re-keying any member costs O(log N) and nothing is allocated
/// once the array has grown. Keys sit next to the member reference so sifting never
/// dereferences a member just to compare.
/// </summary>
internal sealed class MemberHeap<TSlot>
    where TSlot : struct, IHeapSlot
{
    private Entry[] entries = new Entry[8];
    private int count;

    public int Count => count;

    /// <summary>The smallest key; only valid when <see cref="Count"/> &gt; 0.</summary>
    public long MinKey => entries[0].Key;

    public static bool Contains(PoolMember member) => TSlot.Of(member) >= 0;

    public void Push(PoolMember member, long key)
    {
        if (count == entries.Length)
        {
            Array.Resize(ref entries, count * 2);
        }

        SiftUp(count++, new Entry(key, member));
    }

    public PoolMember Pop()
    {
        var top = entries[0].Member;
        RemoveAt(0);
        return top;
    }

    public void Remove(PoolMember member) => RemoveAt(TSlot.Of(member));

    public void ChangeKey(PoolMember member, long key)
    {
        var index = TSlot.Of(member);
        var entry = new Entry(key, member);
        if (index > 0 && key < entries[(index - 1) >> 1].Key)
        {
            SiftUp(index, entry);
        }
        else
        {
            SiftDown(index, entry);
        }
    }

    /// <summary>Replaces the contents with <paramref name="members"/> keyed by <paramref name="keyOf"/>, in O(N).</summary>
    public void Rebuild(List<PoolMember> members, Func<PoolMember, long> keyOf)
    {
        for (var i = 0; i < count; i++)
        {
            TSlot.Of(entries[i].Member) = -1;
        }

        if (entries.Length < members.Count)
        {
            entries = new Entry[Math.Max(8, members.Count)];
        }
        else
        {
            Array.Clear(entries, 0, count);
        }

        count = members.Count;
        for (var i = 0; i < count; i++)
        {
            entries[i] = new Entry(keyOf(members[i]), members[i]);
            TSlot.Of(members[i]) = i;
        }

        for (var i = (count >> 1) - 1; i >= 0; i--)
        {
            SiftDown(i, entries[i]);
        }
    }

    private void RemoveAt(int index)
    {
        TSlot.Of(entries[index].Member) = -1;
        var last = entries[--count];
        entries[count] = default;
        if (index == count)
        {
            return;
        }

        if (index > 0 && last.Key < entries[(index - 1) >> 1].Key)
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
            if (entries[parent].Key <= entry.Key)
            {
                break;
            }

            Place(index, entries[parent]);
            index = parent;
        }

        Place(index, entry);
    }

    private void SiftDown(int index, Entry entry)
    {
        while (true)
        {
            var child = (index << 1) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && entries[child + 1].Key < entries[child].Key)
            {
                child++;
            }

            if (entry.Key <= entries[child].Key)
            {
                break;
            }

            Place(index, entries[child]);
            index = child;
        }

        Place(index, entry);
    }

    private void Place(int index, Entry entry)
    {
        entries[index] = entry;
        TSlot.Of(entry.Member) = index;
    }

    private readonly record struct Entry(long Key, PoolMember Member);
}
