namespace NewsletterMigrator.Common;

/// <summary>
/// Files and folders only their owner can read (0600 / 0700 on Unix, whatever the umask): backups, their temporary
/// files, and staff mails in the pickup folder hold personal data or a link that sets a password. On Windows the
/// folder's ACL applies.
/// </summary>
public static class PrivateFiles
{
    public static FileStream Create(string path, FileAccess access = FileAccess.Write)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = access, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(path, options);
    }

    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
