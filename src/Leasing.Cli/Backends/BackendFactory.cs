using Leasing.InMemory;

namespace Leasing.Cli.Backends;

/// <summary>Opens the backend a command names: the one place that knows how each store is built.</summary>
internal static class BackendFactory
{
    /// <summary>Opens <paramref name="choice"/>, creating the schema where the backend has one.</summary>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="NotSupportedException">This build has no such backend.</exception>
    /// <param name="choice">The backend.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    /// <param name="createIfMissing">For a SQLite file: create it if missing (the demo), or fail (operator commands, where a missing file is a typo).</param>
    public static Task<Backend> OpenAsync(BackendChoice choice, bool createIfMissing, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _ = createIfMissing;
        return choice.Kind switch
        {
            BackendKind.Memory => Task.FromResult(new Backend(choice, new InMemoryLeaseStore(), new InMemoryIdempotencyStore())),
            _ => throw new NotSupportedException($"The {choice.Kind.ToString().ToLowerInvariant()} backend is not available in this build."),
        };
    }
}
