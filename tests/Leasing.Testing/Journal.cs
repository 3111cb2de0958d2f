namespace Leasing.Testing;

/// <summary>
/// A journal written by several worker processes, one file per process (<c>PATH.PID</c>): appends
/// from several processes to one file can overwrite each other, which would hide the very double
/// execution or overlap a test looks for.
/// </summary>
public static class Journal
{
    /// <summary>Every line of every process's file of the journal at <paramref name="path"/>.</summary>
    /// <param name="path">The journal path the workers were given.</param>
    /// <returns>The lines, file by file.</returns>
    public static string[] ReadAll(string path) =>
        [.. Files(path).SelectMany(File.ReadAllLines)];

    /// <summary>Deletes every process's file of the journal.</summary>
    /// <param name="path">The journal path the workers were given.</param>
    public static void DeleteAll(string path)
    {
        foreach (var file in Files(path))
        {
            File.Delete(file);
        }
    }

    private static string[] Files(string path) =>
        Directory.GetFiles(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileName(path) + ".*");
}
