using NewsletterMigrator.Common;

namespace NewsletterMigrator.Tests;

/// <summary>Issue 13: a list unpacked to a scratch file must not outlive a process killed mid-import.</summary>
public sealed class ScratchFileTests
{
    [Fact]
    public void A_scratch_file_has_no_name_on_disk_while_it_is_used_so_a_killed_process_leaves_nothing()
    {
        // Linux (CI, the container): the name goes at once. Windows cannot remove an open file's name; DeleteOnClose covers a normal close there.
        if (OperatingSystem.IsWindows()) return;
        using var scratch = ScratchFile.Create();
        scratch.Write(new byte[100_000]);
        scratch.Position = 0;
        Assert.Equal(100_000, scratch.Read(new byte[200_000]));
        Assert.False(File.Exists(scratch.Name), "the scratch file is still in the temp folder while open");
    }
}
