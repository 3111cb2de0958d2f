using Leasing.Cli.Backends;

namespace Leasing.Cli.Demo;

/// <summary>The demo's backend: the one named on the command line, else the embedded default (a SQLite file in a temp folder, deleted afterwards).</summary>
internal sealed class DemoBackend(Backend backend, string? scratchFolder) : IAsyncDisposable
{
    public Backend Backend { get; } = backend;

    public static async Task<DemoBackend> OpenAsync(BackendChoice? choice, CancellationToken cancellationToken)
    {
        if (choice is not null)
        {
            return new DemoBackend(await BackendFactory.OpenAsync(choice, createIfMissing: true, cancellationToken).ConfigureAwait(false), null);
        }

        var folder = Directory.CreateTempSubdirectory("leasing-demo-").FullName;
        try
        {
            var sqlite = new BackendChoice(BackendKind.Sqlite, Path.Combine(folder, "leasing.db"));
            return new DemoBackend(await BackendFactory.OpenAsync(sqlite, createIfMissing: true, cancellationToken).ConfigureAwait(false), folder);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
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
