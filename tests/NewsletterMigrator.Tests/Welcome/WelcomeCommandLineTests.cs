using System.Text;

namespace NewsletterMigrator.Tests.Welcome;

/// <summary>Issue 21, point 4: <c>update-newsletter --welcome-file</c> and friends, run as the real program in its own process.</summary>
public sealed class WelcomeCommandLineTests : IDisposable
{
    private readonly CliInstallation _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task A_welcome_file_switches_the_welcome_on_a_bad_file_is_refused_with_nothing_saved_and_off_switches_it_off()
    {
        Assert.Equal(0, (await RunAsync("create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test")).ExitCode);

        // Refused, each with its reason and nothing saved (the name given beside it neither).
        var missing = await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt Eilmeldungen", "--welcome-file", Path.Combine(_cli.DataFolder, "fehlt.md"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("--welcome-file: file not found", missing.Error);
        Assert.Contains("nothing was saved", missing.Error);
        var empty = await FileAsync("leer.md", "  \n\n");
        Assert.Contains("is empty", (await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome-file", empty)).Error);
        var large = await FileAsync("gross.md", new string('x', 51 * 1024));
        var tooLarge = await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome-file", large);
        Assert.NotEqual(0, tooLarge.ExitCode);
        Assert.Contains("at most 50 KB", tooLarge.Error);
        var latin1 = Path.Combine(_cli.DataFolder, "latin1.md");
        await File.WriteAllBytesAsync(latin1, Encoding.Latin1.GetBytes("Schön, dass Sie da sind"));
        Assert.Contains("is not UTF-8", (await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome-file", latin1)).Error);
        var good = await FileAsync("willkommen.md", "\uFEFFSchön, dass Sie **dabei** sind!\n");
        var withoutText = await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome", "on");
        Assert.NotEqual(0, withoutText.ExitCode);
        Assert.Contains("Please enter the German text", withoutText.Error);
        Assert.Equal(["Tagblatt", "0", "", ""], await ColumnsAsync("Name", "WelcomeEnabled", "WelcomeMarkdown", "WelcomeMarkdownEn"));

        // A good file switches it on with that text (UTF-8, the byte-order mark dropped).
        var english = await FileAsync("welcome.md", "Good to have you **with us**!");
        var on = await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome-file", good, "--welcome-file-en", english, "--welcome-subject", "Willkommen!");
        Assert.True(on.ExitCode == 0, on.Error);
        Assert.Contains("Welcome mail: on since", on.Output);
        Assert.Contains("German and English", on.Output);
        Assert.Equal(["1", "Schön, dass Sie **dabei** sind!", "Good to have you **with us**!", "Willkommen!"],
            await ColumnsAsync("WelcomeEnabled", "WelcomeMarkdown", "WelcomeMarkdownEn", "WelcomeSubject"));
        var since = (await ColumnsAsync("WelcomeEnabledAtUtc"))[0];
        Assert.NotEqual("", since);

        // Off keeps the texts; on again starts it anew.
        var off = await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome", "off");
        Assert.True(off.ExitCode == 0, off.Error);
        Assert.Contains("Welcome mail: off", off.Output);
        Assert.Equal(["0", "Schön, dass Sie **dabei** sind!"], await ColumnsAsync("WelcomeEnabled", "WelcomeMarkdown"));
        Assert.Contains("must be 'on' or 'off'", (await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome", "ja")).Error);
        Assert.Equal(0, (await RunAsync("update-newsletter", "--slug", "eilmeldungen", "--welcome", "on")).ExitCode);
        Assert.Equal("1", (await ColumnsAsync("WelcomeEnabled"))[0]);
        Assert.True(string.CompareOrdinal((await ColumnsAsync("WelcomeEnabledAtUtc"))[0], since) > 0);
    }

    private async Task<string> FileAsync(string name, string content)
    {
        var path = Path.Combine(_cli.DataFolder, name);
        await File.WriteAllTextAsync(path, content, new UTF8Encoding(false));
        return path;
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) => _cli.RunAsync(args);

    private Task<string[]> ColumnsAsync(params string[] columns) => _cli.RowAsync($"SELECT {string.Join(", ", columns)} FROM Newsletters");
}
