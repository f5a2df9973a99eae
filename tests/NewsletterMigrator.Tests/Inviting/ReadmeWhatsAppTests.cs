using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 14, point 3: the error codes and their handling are one table in the code and the same table in the README, and
/// every WhatsApp setting an operator can set is documented with its real default. The README is what the portal's
/// operator reads when Meta refuses a message at night: a code the app handles but the README does not list fails here.
/// </summary>
public sealed partial class ReadmeWhatsAppTests
{
    /// <summary>The words the README's "what the app does" column uses for each action, each explained above the table.</summary>
    private static readonly Dictionary<WhatsAppErrorAction, string> ReadmeWords = new()
    {
        [WhatsAppErrorAction.SlowDown] = "slow down",
        [WhatsAppErrorAction.Retry] = "retry",
        [WhatsAppErrorAction.RetryNextDay] = "retry after a day",
        [WhatsAppErrorAction.NotOnWhatsApp] = "not on WhatsApp",
        [WhatsAppErrorAction.Objection] = "objection",
        [WhatsAppErrorAction.PauseQueue] = "pause the queue",
        [WhatsAppErrorAction.Fail] = "failed",
        [WhatsAppErrorAction.Unknown] = "unknown",
    };

    private static readonly string Readme = File.ReadAllText(Path.Combine(AppFactory.RepositoryRoot(), "README.md"));

    [Fact]
    public void The_README_lists_exactly_the_error_codes_of_WhatsAppErrors_with_the_same_meaning_and_handling()
    {
        var expected = WhatsAppErrors.Table.Select(e => $"{e.Code} | {e.Meaning} | {ReadmeWords[e.Action]}").ToList();
        var documented = ErrorCodeRows().Select(r => $"{r.Code} | {r.Meaning} | {r.Handling}").ToList();

        var missing = expected.Except(documented).ToList();
        var extra = documented.Except(expected).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"In WhatsAppErrors.Table, not in the README: {string.Join("; ", missing)}. In the README, not in the table: {string.Join("; ", extra)}.");
        Assert.Equal(documented.Count, documented.Distinct().Count());
    }

    [Fact]
    public void Every_handling_named_in_the_README_table_is_explained_above_it()
    {
        // A new action in the code needs its README words (and the dictionary above fails to cover it otherwise).
        Assert.Equal(Enum.GetValues<WhatsAppErrorAction>().Order(), ReadmeWords.Keys.Order());
        var section = WhatsAppAtScale();
        foreach (var action in WhatsAppErrors.Table.Select(e => e.Action).Distinct())
            Assert.Contains($"- *{ReadmeWords[action]}*: ", section);
    }

    [Fact]
    public void Every_WhatsApp_option_is_in_the_README_configuration_table_with_its_default()
    {
        var rows = ConfigurationRows();
        var defaults = new WhatsAppOptions();
        foreach (var property in typeof(WhatsAppOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var key = $"{WhatsAppOptions.Section}:{property.Name}";
            Assert.True(rows.TryGetValue(key, out var documentedDefault), $"{key} is not in the README's configuration table.");
            if (Format(property.GetValue(defaults)) is { } value)
                Assert.True(documentedDefault == $"`{value}`", $"{key}: the README says the default is {documentedDefault}, the code has {value}.");
            else
                Assert.StartsWith("*(", documentedDefault); // no value: the README says what happens without one
        }
    }

    [Fact]
    public void The_README_names_every_webhook_field_the_app_reads()
    {
        var section = WhatsAppAtScale();
        foreach (var field in new[] { "messages", "business_capability_update", "phone_number_quality_update", "message_template_status_update", "user_preferences" })
            Assert.Matches($@"\| `{field}` \|", section);
    }

    private static string? Format(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>The README's section on Meta's limits, up to the next top-level heading.</summary>
    private static string WhatsAppAtScale()
    {
        var start = Readme.IndexOf("\n## WhatsApp at scale", StringComparison.Ordinal);
        Assert.True(start >= 0, "The README has no section '## WhatsApp at scale'.");
        var end = Readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return end < 0 ? Readme[start..] : Readme[start..end];
    }

    /// <summary>The rows of the table under the header "| code | meaning | what the app does |".</summary>
    private static List<(int Code, string Meaning, string Handling)> ErrorCodeRows()
    {
        var lines = WhatsAppAtScale().Split('\n');
        var header = Array.FindIndex(lines, l => l.Trim() == "| code | meaning | what the app does |");
        Assert.True(header >= 0, "The README has no error code table.");
        var rows = new List<(int, string, string)>();
        foreach (var line in lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var match = CodeRow().Match(line.Trim());
            Assert.True(match.Success, $"Not a row of code, meaning and handling: {line}");
            rows.Add((int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), match.Groups[2].Value, match.Groups[3].Value));
        }
        return rows;
    }

    /// <summary>Key → default column of the README's configuration table.</summary>
    private static Dictionary<string, string> ConfigurationRows() =>
        ConfigRow().Matches(Readme).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim());

    [GeneratedRegex(@"^\| (\d+) \| (.+?) \| (.+?) \|$")]
    private static partial Regex CodeRow();

    [GeneratedRegex(@"^\| `(WhatsApp:\w+)` \|([^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex ConfigRow();
}
