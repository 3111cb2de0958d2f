using Leasing.Cli.Backends;

namespace Leasing.Cli.Demo;

/// <summary>The demo's backend: the one named on the command line, else the embedded default.</summary>
internal sealed class DemoBackend(Backend backend, string? scratchFolder) : IAsyncDisposable
{
    public Backend Backend { get; } = backend;

    public static async Task<DemoBackend> OpenAsync(BackendChoice? choice, CancellationToken cancellationToken)
    {
        if (choice is not null)
        {
            return new DemoBackend(await BackendFactory.OpenAsync(choice, createIfMissing: true, cancellationToken).ConfigureAwait(false), null);
        }

        return new DemoBackend(await BackendFactory.OpenAsync(new BackendChoice(BackendKind.Memory, null), createIfMissing: true, cancellationToken).ConfigureAwait(false), null);
    }

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync().ConfigureAwait(false);
        if (scratchFolder is not null)
        {
            try
            {
                Directory.Delete(scratchFolder, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp folder is harmless.
            }
        }
    }
}
