namespace Leasing;

/// <summary>
/// Coalesces concurrent calls for one key into one shared piece of work (a "flight"), so N identical
/// concurrent calls cost one backend round trip. Reusable by any hot path of the library.
/// </summary>
/// <remarks>
/// <para>The shared work runs on its own token, never on a caller's: each caller races the flight
/// against its own token and detaches alone (<see cref="Ticket.Dispose"/>); when the last caller
/// leaves a flight that is not pinned, the flight's token is cancelled and new callers start a new
/// flight. Work that must finish once started (an action with side effects) calls
/// <see cref="Flight.Pin"/> first.</para>
/// <para>Generation guard: <see cref="Invalidate(TKey)"/> detaches the key's running flight, whose
/// <see cref="Flight.IsCurrent"/> turns false, so a load that started before an invalidation never
/// writes its stale result back (a cache checks <see cref="Flight.IsCurrent"/> before storing, and again
/// after). <see cref="Invalidate(Func{TKey, bool})"/> does the same for every matching key, leaving pinned
/// flights joinable.</para>
/// </remarks>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TState">Per-flight state the work and the callers share.</typeparam>
/// <typeparam name="TResult">The work's result.</typeparam>
internal sealed class SingleFlight<TKey, TState, TResult>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Flight> _flights;
    private readonly Func<TKey, TState> _createState;
    private readonly Lock _gate = new();

    /// <param name="createState">Creates the state of a new flight.</param>
    /// <param name="comparer">Compares keys; default comparer when <see langword="null"/>.</param>
    public SingleFlight(Func<TKey, TState> createState, IEqualityComparer<TKey>? comparer = null)
    {
        _createState = createState;
        _flights = new Dictionary<TKey, Flight>(comparer);
    }

    /// <summary>Flights running now (joinable or pinned).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _flights.Count;
            }
        }
    }

    /// <summary>
    /// Joins the key's running flight, or starts one with <paramref name="work"/>. Dispose the ticket
    /// when done with it (also after the flight ended): that is how a caller leaves.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="work">Starts the shared work; called at most once per flight, by the caller that creates it.</param>
    /// <returns>The caller's ticket.</returns>
    public Ticket Join(TKey key, Func<Flight, Task<TResult>> work)
    {
        Flight flight;
        lock (_gate)
        {
            if (_flights.TryGetValue(key, out var running))
            {
                running.Callers++;
                return new Ticket(running, isCreator: false);
            }

            flight = new Flight(this, key, _createState(key));
            _flights.Add(key, flight);
        }

        flight.Start(work);
        return new Ticket(flight, isCreator: true);
    }

    /// <summary>Detaches the key's running flight: new callers start a new one, and its <see cref="Flight.IsCurrent"/> turns false.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when a flight was detached.</returns>
    public bool Invalidate(TKey key)
    {
        lock (_gate)
        {
            if (!_flights.Remove(key, out var flight))
            {
                return false;
            }

            flight.Invalidated = true;
            return true;
        }
    }

    /// <summary>
    /// Invalidates every running flight whose key matches: each one's <see cref="Flight.IsCurrent"/> turns false. An
    /// unpinned one is also detached, so new callers of its key start a new flight; a pinned one (work with side
    /// effects under way) stays joinable, since a second flight would do the work beside it.
    /// </summary>
    /// <param name="match">Which keys.</param>
    public void Invalidate(Func<TKey, bool> match)
    {
        lock (_gate)
        {
            foreach (var flight in _flights.Values.Where(f => match(f.Key)).ToList())
            {
                flight.Invalidated = true;
                if (!flight.Pinned)
                {
                    _flights.Remove(flight.Key);
                }
            }
        }
    }

    /// <summary>The completions of the flights running now.</summary>
    /// <returns>A snapshot.</returns>
    public Task[] RunningFlights()
    {
        lock (_gate)
        {
            return [.. _flights.Values.Select(static f => (Task)f.Completion)];
        }
    }

    private void Leave(Flight flight)
    {
        lock (_gate)
        {
            if (--flight.Callers > 0 || flight.Pinned || flight.Completion.IsCompleted)
            {
                return;
            }

            Detach(flight);
        }

        // Outside the lock: cancellation callbacks run inline.
        flight.Abandon();
    }

    private bool Pin(Flight flight)
    {
        lock (_gate)
        {
            if (flight.Callers == 0 && !flight.Pinned)
            {
                return false;
            }

            flight.Pinned = true;
            return true;
        }
    }

    private void Finish(Flight flight)
    {
        lock (_gate)
        {
            Detach(flight);
        }
    }

    private void Detach(Flight flight)
    {
        if (_flights.TryGetValue(flight.Key, out var current) && ReferenceEquals(current, flight))
        {
            _flights.Remove(flight.Key);
        }
    }

    /// <summary>One shared piece of work.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source carries no timer; late callers may still read the token.")]
    internal sealed class Flight
    {
        private readonly SingleFlight<TKey, TState, TResult> _owner;
        private readonly CancellationTokenSource _abandoned = new();
        private readonly TaskCompletionSource<TResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

        internal Flight(SingleFlight<TKey, TState, TResult> owner, TKey key, TState state)
        {
            _owner = owner;
            Key = key;
            State = state;
        }

        /// <summary>The key.</summary>
        public TKey Key { get; }

        /// <summary>The state shared by the work and the callers.</summary>
        public TState State { get; }

        /// <summary>Cancelled when every caller left before the flight was pinned.</summary>
        public CancellationToken CancellationToken => _abandoned.Token;

        /// <summary><see langword="false"/> once the key was invalidated after this flight started: do not store its result.</summary>
        public bool IsCurrent => !Volatile.Read(ref Invalidated);

        /// <summary>The shared result.</summary>
        public Task<TResult> Completion => _completion.Task;

        /// <summary>Guarded by the owner's gate.</summary>
        internal int Callers { get; set; } = 1;

        /// <summary>Guarded by the owner's gate.</summary>
        internal bool Pinned { get; set; }

        internal bool Invalidated;

        internal SingleFlight<TKey, TState, TResult> Owner => _owner;

        /// <summary>
        /// Marks the flight as one that runs to its end whoever leaves: its token is no longer
        /// cancelled when the callers go, and late callers keep joining it.
        /// </summary>
        /// <returns><see langword="false"/> when every caller had already left (the token is cancelled then).</returns>
        public bool Pin() => _owner.Pin(this);

        internal void Start(Func<Flight, Task<TResult>> work) => _ = RunAsync(work);

        internal void Abandon() => _abandoned.Cancel();

        private async Task RunAsync(Func<Flight, Task<TResult>> work)
        {
            TResult result;
            try
            {
                result = await work(this).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // The shared work's failure goes to every caller through the completion.
            catch (Exception e)
#pragma warning restore CA1031
            {
                _owner.Finish(this);
                if (e is OperationCanceledException canceled)
                {
                    _completion.TrySetCanceled(canceled.CancellationToken);
                }
                else
                {
                    _completion.TrySetException(e);
                }

                return;
            }

            // Off the map first: a caller arriving now starts a new flight instead of joining a finished one.
            _owner.Finish(this);
            _completion.TrySetResult(result);
        }
    }

    /// <summary>One caller's membership of a flight.</summary>
    internal sealed class Ticket : IDisposable
    {
        private int _left;

        internal Ticket(Flight flight, bool isCreator)
        {
            Flight = flight;
            IsCreator = isCreator;
        }

        /// <summary>The flight.</summary>
        public Flight Flight { get; }

        /// <summary>Whether this caller started the flight (its work is this caller's).</summary>
        public bool IsCreator { get; }

        /// <summary>Leaves the flight (once; later calls do nothing).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                Flight.Owner.Leave(Flight);
            }
        }
    }
}
