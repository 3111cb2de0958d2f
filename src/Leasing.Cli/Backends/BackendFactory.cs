using Leasing.InMemory;

namespace Leasing.Cli.Backends;

/// <summary>Opens the backend a command names: the one place that knows how each store is built.</summary>
internal static class BackendFactory
{
    /// <summary>Opens <paramref name="choice"/>, creating the schema where the backend has one.</summary>
    /// <exception cref="LeaseStoreUnavailableException">The backend could not be reached.</exception>
    /// <exception cref="NotSupportedException">This build has no such backend.</exception>
    public static Task<Backend> OpenAsync(BackendChoice choice, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return choice.Kind switch
        {
            BackendKind.Memory => Task.FromResult(new Backend(choice, new InMemoryLeaseStore(), null)),
            _ => throw new NotSupportedException($"The {choice.Kind.ToString().ToLowerInvariant()} backend is not available in this build."),
        };
    }
}
