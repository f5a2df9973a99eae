using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary><c>update-newsletter --archive public|unlisted|off [--archive-indexing on|off]</c> (issue 21).</summary>
public static class ArchiveCommandLine
{
    public const string Usage = "[--archive public|unlisted|off] [--archive-indexing on|off]";

    /// <summary>True when either option is given (the change is audited on its own).</summary>
    public static bool Given(string[] args) =>
        CommandLine.Option(args, "--archive") is not null || CommandLine.Option(args, "--archive-indexing") is not null;

    /// <summary>Sets what the options give; a bad value returns the message and sets nothing (the caller saves nothing).</summary>
    public static string? Apply(Newsletter newsletter, string[] args)
    {
        ArchiveMode? mode = null;
        if (CommandLine.Option(args, "--archive") is { } archive)
        {
            mode = archive.Trim().ToLowerInvariant() switch
            {
                "public" => ArchiveMode.Public,
                "unlisted" => ArchiveMode.Unlisted,
                "off" => ArchiveMode.Off,
                _ => null,
            };
            if (mode is null) return $"--archive: '{archive}' is not one of public, unlisted, off; nothing was saved.";
        }
        bool? indexable = null;
        if (CommandLine.Option(args, "--archive-indexing") is { } indexing)
        {
            indexable = indexing.Trim().ToLowerInvariant() switch { "on" => true, "off" => false, _ => null };
            if (indexable is null) return $"--archive-indexing: '{indexing}' is not on or off; nothing was saved.";
        }
        if (mode is { } m) newsletter.Archive = m;
        if (indexable is { } i) newsletter.ArchiveIndexable = i;
        return null;
    }

    /// <summary>One line for the verb's summary: the mode, the addresses it opens, and whether search engines may index them.</summary>
    public static string Describe(Newsletter newsletter) => newsletter.Archive switch
    {
        ArchiveMode.Off => "Archive: off (--archive public|unlisted).",
        ArchiveMode.Unlisted => $"Archive: unlisted (each sent issue at {ArchiveLinks.ListPath(newsletter.Slug)}/<issue>, no list, no feed); search engines: noindex.",
        _ => $"Archive: public at {ArchiveLinks.ListPath(newsletter.Slug)}, feed {ArchiveLinks.FeedPath(newsletter.Slug)}; search engines: "
             + (newsletter.ArchiveIndexable ? "may index it." : "noindex (--archive-indexing on)."),
    };
}
