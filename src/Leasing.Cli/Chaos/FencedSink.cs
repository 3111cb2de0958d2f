namespace Leasing.Cli.Chaos;

/// <summary>
/// The downstream system the workers write to, fenced as the README asks users to fence theirs: per
/// channel or lock key it accepts a begin or a write only with a fencing token at least the highest
/// it has accepted. A holder announces its token when it begins (as a relayer reads its channel's
/// state first), and writes after its work. A zombie (a holder paused past its lease) that wakes up and
/// writes after a successor began is rejected; if the sink ever accepts such a write, the successor was
/// granted a token that did not exceed the zombie's. A successor is a holder whose acquire was sent
/// after the writer's had returned: whatever the network delayed, it was granted later. (A holder
/// whose grant reached it late, and that begins after a later holder, is a zombie too: its begin and
/// write are refused.)
/// </summary>
/// <remarks>Not thread-safe: the journal calls it under its lock.</remarks>
internal sealed class FencedSink
{
    private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);

    /// <summary>A holder whose acquire was sent at <paramref name="sent"/> begins: returns whether its token was accepted, and its position among the key's begins.</summary>
    public (bool Accepted, long BeginIndex) Begin(string key, long token, long sent)
    {
        var state = State(key);
        state.Begins++;
        state.Recent.Add((state.Begins, sent));
        if (state.Recent.Count > 4_096)
        {
            state.Recent.RemoveRange(0, 2_048);
        }

        var accepted = token >= state.Highest;
        if (accepted)
        {
            state.Highest = token;
        }

        return (accepted, state.Begins);
    }

    /// <summary>
    /// A holder that began at <paramref name="beginIndex"/>, its acquire having returned at
    /// <paramref name="granted"/>, writes: whether it was accepted, and whether a successor began
    /// since (another holder whose acquire was sent after this one's returned: surely granted later).
    /// </summary>
    public (bool Accepted, bool SuccessorBegan) Write(string key, long token, long beginIndex, long granted)
    {
        var state = State(key);
        var accepted = token >= state.Highest;
        if (accepted)
        {
            state.Highest = token;
        }

        var successor = false;
        for (var i = state.Recent.Count - 1; i >= 0 && state.Recent[i].Index > beginIndex; i--)
        {
            successor |= state.Recent[i].Sent > granted;
        }

        return (accepted, successor);
    }

    private KeyState State(string key)
    {
        if (!_keys.TryGetValue(key, out var state))
        {
            state = new KeyState();
            _keys.Add(key, state);
        }

        return state;
    }

    private sealed class KeyState
    {
        public long Highest { get; set; } = long.MinValue;

        public long Begins { get; set; }

        /// <summary>The latest begins: their position and when their acquire was sent.</summary>
        public List<(long Index, long Sent)> Recent { get; } = [];
    }
}
