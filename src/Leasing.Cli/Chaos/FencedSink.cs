namespace Leasing.Cli.Chaos;

/// <summary>
/// The downstream system the workers write to, fenced as the README asks users to fence theirs: per
/// channel or lock key it accepts a begin or a write only with a fencing token at least the highest
/// it has accepted. A holder announces its token when it begins (as a relayer reads its channel's
/// state first), and writes after its work. A zombie (a holder paused past its lease) that wakes up and
/// writes after a successor began is rejected; if the sink ever accepts such a write, the successor was
/// granted a token that did not exceed the zombie's.
/// </summary>
/// <remarks>Not thread-safe: the journal calls it under its lock.</remarks>
internal sealed class FencedSink
{
    private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);

    /// <summary>A holder begins: returns whether its token was accepted, and its position among the key's begins.</summary>
    public (bool Accepted, long BeginIndex) Begin(string key, long token)
    {
        var state = State(key);
        state.Begins++;
        var accepted = token >= state.Highest;
        if (accepted)
        {
            state.Highest = token;
        }

        return (accepted, state.Begins);
    }

    /// <summary>A holder that began at <paramref name="beginIndex"/> writes: whether it was accepted, and whether another holder began after it.</summary>
    public (bool Accepted, bool SuccessorBegan) Write(string key, long token, long beginIndex)
    {
        var state = State(key);
        var accepted = token >= state.Highest;
        if (accepted)
        {
            state.Highest = token;
        }

        return (accepted, state.Begins > beginIndex);
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
    }
}
