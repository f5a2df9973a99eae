namespace NewsletterMigrator.Common;

/// <summary>
/// A temporary file for work too large for memory (a list unpacked from a ZIP, a stream made seekable). On Linux
/// its name is removed at once, so the kernel frees it when the last handle closes: even a process killed with
/// kill -9 leaves nothing behind (a hostile 1 GiB unpack once did, under /tmp). Windows cannot remove an open
/// file's name; there DeleteOnClose removes it on a normal close.
/// </summary>
public static class ScratchFile
{
    public static FileStream Create()
    {
        var path = Path.Combine(Path.GetTempPath(), $"nm-scratch-{Guid.NewGuid():N}.tmp");
        if (OperatingSystem.IsWindows())
            return new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        File.Delete(path);
        return file;
    }
}
