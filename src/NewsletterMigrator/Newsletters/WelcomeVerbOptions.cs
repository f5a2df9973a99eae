using System.Text;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>
/// <c>update-newsletter</c>'s welcome options (issue 21): <c>--welcome-file</c> sets the German Markdown and switches the welcome
/// on, <c>--welcome-file-en</c> the English one, <c>--welcome-subject(-en)</c> the subjects, <c>--welcome on|off</c> the state
/// (off with a file: the text is stored for later). The rules are the settings page's (<see cref="WelcomeSettings"/>).
/// </summary>
public static class WelcomeVerbOptions
{
    public const string Usage =
        "[--welcome-file <markdown file>] [--welcome-file-en <markdown file>] [--welcome-subject \"<text>\"] [--welcome-subject-en \"<text>\"] [--welcome on|off]";

    private static readonly string[] Names = ["--welcome-file", "--welcome-file-en", "--welcome-subject", "--welcome-subject-en", "--welcome"];

    /// <summary>Sets the options given on <paramref name="n"/> (with an audit entry); a refusal in English, and the caller saves nothing.</summary>
    public static string? Apply(IServiceProvider services, Newsletter n, string[] args, DateTime now)
    {
        if (!Names.Any(args.Contains)) return null;
        foreach (var name in Names)
        {
            if (args.Contains(name) && CommandLine.Option(args, name) is null) return $"{name} needs a value; nothing was saved.";
        }
        var change = WelcomeSettings.Of(n);
        if (CommandLine.Option(args, "--welcome-file") is { } file)
        {
            if (ReadMarkdown("--welcome-file", file, out var markdown) is { } error) return error;
            change = change with { Markdown = markdown, Enabled = true };
        }
        if (CommandLine.Option(args, "--welcome-file-en") is { } fileEn)
        {
            if (ReadMarkdown("--welcome-file-en", fileEn, out var markdown) is { } error) return error;
            change = change with { MarkdownEn = markdown };
        }
        if (CommandLine.Option(args, "--welcome-subject") is { } subject) change = change with { Subject = subject };
        if (CommandLine.Option(args, "--welcome-subject-en") is { } subjectEn) change = change with { SubjectEn = subjectEn };
        switch (CommandLine.Option(args, "--welcome"))
        {
            case null: break;
            case "on": change = change with { Enabled = true }; break;
            case "off": change = change with { Enabled = false }; break;
            case var other: return $"--welcome must be 'on' or 'off', not '{other}'; nothing was saved.";
        }
        var refusal = WelcomeSettings.Apply(services.GetRequiredService<AppDbContext>(), n, change, "command line", now);
        if (refusal == WelcomeRefusal.None) return null;
        using var english = new CultureScope("en");
        var text = services.GetRequiredService<IStringLocalizer<SharedResource>>();
        var hint = refusal == WelcomeRefusal.GermanTextRequired ? " (--welcome-file <markdown file>)" : "";
        return $"{text[$"Welcome_Refusal_{refusal}"]}{hint} Nothing was saved.";
    }

    /// <summary>One line for the verb's summary: whether the welcome is on, since when, and in which languages.</summary>
    public static string Summary(Newsletter n) => n.WelcomeEnabled
        ? $"Welcome mail: on since {Berlin.Format(n.WelcomeEnabledAtUtc)} (Berlin time), German{(n.WelcomeMarkdownEn.Length > 0 ? " and English" : " (English readers get it too)")}; readers who confirmed before do not get it."
        : "Welcome mail: off (--welcome-file <markdown file> switches it on).";

    /// <summary>
    /// A Markdown file in UTF-8 (a byte-order mark is allowed) of at most <see cref="WelcomeSettings.MaxMarkdownBytes"/>, not
    /// empty. Anything else is refused with the reason: a file in another encoding would reach readers garbled.
    /// </summary>
    private static string? ReadMarkdown(string option, string path, out string markdown)
    {
        markdown = "";
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return $"{option}: file not found: {path}; nothing was saved.";
            // Checked before reading: a wrong path to a large file must not be read into memory first.
            if (info.Length > WelcomeSettings.MaxMarkdownBytes)
                return $"{option}: {path} has {info.Length / 1024} KB; a welcome text may have at most {WelcomeSettings.MaxMarkdownBytes / 1024} KB. Nothing was saved.";
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{option}: {path} cannot be read ({e.GetType().Name}); nothing was saved.";
        }
        try
        {
            markdown = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF').Trim();
        }
        catch (DecoderFallbackException)
        {
            return $"{option}: {path} is not UTF-8 text; save it as UTF-8 and try again. Nothing was saved.";
        }
        return markdown.Length == 0 ? $"{option}: {path} is empty; nothing was saved." : null;
    }
}
