using NewsletterMigrator.Importing;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The operator's verbs and start-up validation, run as the real program in its own process
/// (the built NewsletterMigrator.dll next to the tests) with settings from environment variables.
/// </summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("nm-cli-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Create_admin_create_newsletter_and_import_print_a_summary()
    {
        var admin = await RunAsync(["create-admin", "chef@example.test"], stdin: "a long admin password\n");
        Assert.True(admin.ExitCode == 0, admin.Error);
        Assert.Contains("chef@example.test", admin.Output);

        var newsletter = await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        Assert.True(newsletter.ExitCode == 0, newsletter.Error);

        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(60));

        var fixture = Path.Combine(FixtureImportTests.FixtureFolder(), "numbers.txt");
        var import = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText, "--json"]);
        Assert.True(import.ExitCode == 0, import.Error);
        using var json = JsonDocument.Parse(import.Output);
        Assert.Equal(83, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(81, json.RootElement.GetProperty("imported").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("invalid").GetInt32());
        Assert.Equal(1, json.RootElement.GetProperty("reasons").EnumerateObject().Sum(p => p.Value.GetInt32()));

        var again = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText]);
        Assert.Contains("0 imported", again.Output);
    }

    [Fact]
    public async Task Import_json_counts_an_export_the_same_in_a_dry_run_and_for_real_with_its_reasons_and_notes()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);
        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(60));
        var fixture = Path.Combine(FixtureImportTests.FixtureFolder(), "google-contacts.csv");

        var dry = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--dry-run", "--json"]);
        var real = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText, "--json"]);
        Assert.True(dry.ExitCode == 0 && real.ExitCode == 0, dry.Error + real.Error);
        Assert.Equal(dry.Output, real.Output); // the same report, to the byte
        using var json = JsonDocument.Parse(real.Output);
        var root = json.RootElement;
        Assert.Equal((12, 8, 1, 3), (root.GetProperty("rows").GetInt32(), root.GetProperty("imported").GetInt32(),
            root.GetProperty("duplicates").GetInt32(), root.GetProperty("invalid").GetInt32()));
        // The reason an entry with several numbers and no mobile one is refused, and the notes on the numbers not taken.
        Assert.Equal(1, root.GetProperty("reasons").GetProperty(PhoneChoice.NoMobileNumber).GetInt32());
        var notes = root.GetProperty("notes");
        Assert.Equal((5, 1, 1), (notes.GetProperty(InvalidReason.Landline).GetInt32(), notes.GetProperty(PhoneChoice.OtherMobile).GetInt32(),
            notes.GetProperty(PhoneChoice.OtherInvalid).GetInt32()));
        Assert.Equal(8, await CountAsync("Contacts"));
    }

    [Fact]
    public async Task Update_newsletter_sets_a_logo_with_the_checks_of_the_settings_page_and_a_bad_file_changes_nothing()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);
        var bad = Path.Combine(_data, "logo-bad.png");
        await File.WriteAllBytesAsync(bad, TestPngs.Huge(2000, 500));
        var refused = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt Eilmeldungen", "--logo", bad]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--logo: The image has 2000", refused.Error);
        Assert.Contains("at most 1000 pixels per side", refused.Error);
        Assert.Equal(["Tagblatt", ""], await NewsletterColumnsAsync("Name", "LogoSha256")); // the name did not change either

        var good = Path.Combine(_data, "logo.png");
        await File.WriteAllBytesAsync(good, TestPngs.Logo(160, 40));
        var set = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--logo", good]);
        Assert.True(set.ExitCode == 0, set.Error);
        Assert.Contains("Logo: 160x40 pixels, served at /n/eilmeldungen/logo/", set.Output);
        var (sha, width) = (await NewsletterColumnsAsync("LogoSha256", "LogoWidth")) is [var s, var w] ? (s, w) : default;
        Assert.Matches("^[0-9a-f]{64}$", sha);
        Assert.Equal("160", width);
    }

    [Fact]
    public async Task Update_newsletter_sets_the_brand_colour_and_footer_line_and_a_wrong_value_changes_nothing()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);
        var refused = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt Eilmeldungen", "--colour", "rot"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--colour: 'rot' is not a colour", refused.Error);
        var tooLong = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--footer-text", new string('x', 301)]);
        Assert.NotEqual(0, tooLong.ExitCode);
        Assert.Contains("--footer-text: one line of at most 300 characters", tooLong.Error);
        Assert.Equal(["Tagblatt", "", ""], await NewsletterColumnsAsync("Name", "BrandColour", "BrandFooter"));

        var set = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--colour", "#C8102E", "--footer-text", "Tagblatt – Nachrichten aus der Region"]);
        Assert.True(set.ExitCode == 0, set.Error);
        Assert.Equal(["#c8102e", "Tagblatt – Nachrichten aus der Region"], await NewsletterColumnsAsync("BrandColour", "BrandFooter"));
    }

    [Fact]
    public async Task Update_newsletter_takes_an_SVG_logo_by_its_content_cleans_it_and_reports_the_mail_PNG()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);
        var bad = Path.Combine(_data, "logo-bad.svg");
        await File.WriteAllTextAsync(bad, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\"><rect width=\"5\" height=\"5\"/></svg>");
        var refused = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--logo", bad]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("--logo: The SVG file gives no size", refused.Error);
        Assert.Equal([""], await NewsletterColumnsAsync("LogoSha256"));

        // An SVG under a .png name: the content decides.
        var good = Path.Combine(_data, "logo.png");
        await File.WriteAllTextAsync(good, TestSvgs.Illustrator);
        var set = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--logo", good]);
        Assert.True(set.ExitCode == 0, set.Error);
        Assert.Matches("Logo: SVG, shown as 320x80 pixels, served at /n/eilmeldungen/logo/[0-9a-f]{64}\\.svg", set.Output);
        Assert.Matches("Mail logo: PNG 320x80 pixels at /n/eilmeldungen/logo/[0-9a-f]{64}\\.png", set.Output);
        Assert.Contains("Removed 2 attributes or style declarations that do not draw.", set.Output); // Illustrator's data-name layer names
        Assert.Equal(["1", "320", "80"], await NewsletterColumnsAsync("LogoSvg", "LogoMailWidth", "LogoMailHeight"));
    }

    [Fact]
    public async Task Create_newsletter_without_legal_identity_creates_it_not_open_and_says_what_is_missing_C38()
    {
        var created = await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("Not open yet", created.Output);
        foreach (var option in new[] { "--controller", "--contact", "--impressum-url", "--privacy-url", "--privacy-version", "--migration-end" })
            Assert.Contains(option, created.Output);

        var impressum = Path.Combine(_data, "impressum.txt");
        await File.WriteAllTextAsync(impressum, "Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt\nVerantwortlich nach §18 Abs. 2 MStV: Erika Mustermann");
        var updated = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--controller", "Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt",
            "--contact", "datenschutz@example.test", "--impressum-file", impressum, "--privacy-url", "https://tagblatt.example.test/datenschutz",
            "--privacy-version", "2026-11", "--migration-end", DateTime.UtcNow.AddDays(90).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(updated.ExitCode == 0, updated.Error);
        Assert.Contains("Open: sign-up at /n/eilmeldungen", updated.Output);
        Assert.DoesNotContain("Not open yet", updated.Output);
        Assert.Equal(["Tagblatt Verlag GmbH", "Musterstraße 1, 12345 Musterstadt", "datenschutz@example.test", "2026-11"],
            await NewsletterColumnsAsync("ControllerName", "ControllerAddress", "ControllerEmail", "PrivacyNoticeVersion"));
        Assert.Contains("Verantwortlich nach §18 Abs. 2 MStV: Erika Mustermann", (await NewsletterColumnsAsync("Impressum"))[0]);

        // A legal name with a comma in it comes with its own options.
        var comma = await RunAsync(["update-newsletter", "--slug", "eilmeldungen", "--controller-name", "Müller, Meier & Co. KG",
            "--controller-address", "Hauptstraße 5, 54321 Beispielstadt"]);
        Assert.True(comma.ExitCode == 0, comma.Error);
        Assert.Equal(["Müller, Meier & Co. KG", "Hauptstraße 5, 54321 Beispielstadt"], await NewsletterColumnsAsync("ControllerName", "ControllerAddress"));
    }

    [Fact]
    public async Task Create_newsletter_with_every_legal_option_is_open_at_once_C38()
    {
        var created = await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test",
            "--controller", "Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt", "--contact", "datenschutz@example.test",
            "--impressum-url", "https://tagblatt.example.test/impressum", "--privacy-url", "https://tagblatt.example.test/datenschutz",
            "--privacy-version", "2026-11", "--migration-end", DateTime.UtcNow.AddDays(90).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Contains("Open: sign-up at /n/eilmeldungen", created.Output);
    }

    [Theory]
    [InlineData("--contact", "kein-at-zeichen", "--contact")]
    [InlineData("--controller", "Nur ein Name", "--controller needs")]
    [InlineData("--privacy-url", "datenschutz.html", "--privacy-url")]
    [InlineData("--privacy-url", "javascript:alert(1)", "--privacy-url: 'javascript:alert(1)' is not an absolute http(s) address")] // issue 13, point 9
    [InlineData("--migration-end", "31.12.2027", "--migration-end")]
    [InlineData("--migration-end", "2020-01-01", "has passed")]
    [InlineData("--impressum-file", "/nonexistent/impressum.txt", "file not found")]
    public async Task A_bad_legal_option_is_refused_with_a_message_and_creates_nothing(string option, string value, string message)
    {
        var result = await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test", option, value]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Equal(0, await CountAsync("Newsletters")); // the verb migrated the database before it refused
    }

    [Fact]
    public async Task A_second_admin_with_a_short_password_is_refused_with_a_message()
    {
        var result = await RunAsync(["create-admin", "chef@example.test"], stdin: "short\n");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("12", result.Error); // "at least 12 characters", in the process's language
    }

    /// <summary>
    /// One launch per options section: a section's validator names every wrong key at once, so the keys of one
    /// section share a run (settings that exclude each other, or fail outside the validators, get their own).
    /// </summary>
    [Theory]
    [InlineData("Smtp__Port=0|Smtp__MaxConnections=0|Smtp__MessagesPerSecond=-1|Smtp__MessagesPerHour=-5",
        "Smtp:Port|Smtp:MaxConnections|Smtp:MessagesPerSecond|Smtp:MessagesPerHour")]
    [InlineData("Smtp__Security=Sometimes", "Smtp:Security")] // the binder's own error, before validation
    [InlineData("App__PublicBaseUrl=not a url|App__MasterKey=c2hvcnQ=", "App:PublicBaseUrl|App:MasterKey")]
    [InlineData("App__PublicBaseUrl=http://newsletter.example.test", "App:PublicBaseUrl must be an https URL in Production")] // C46
    [InlineData("Database__ConnectionString=Data Sauce=x", "Database:ConnectionString")]
    [InlineData("Retention__DailyAt=25:99", "Retention:DailyAt")]
    [InlineData("WhatsApp__Enabled=true", "WhatsApp:AccessToken")]
    [InlineData("Sending__RetryBackoffFactor=0.5|Sending__PauseAfterConsecutiveFailures=-1|Sending__FanOutBatchSize=0|Sending__UnsubscribeMailbox=abmelden bei tagblatt",
        "Sending:RetryBackoffFactor|Sending:PauseAfterConsecutiveFailures|Sending:FanOutBatchSize|Sending:UnsubscribeMailbox")]
    [InlineData("Consent__DoiMailsPerAddressPerDay=0", "Consent:DoiMailsPerAddressPerDay")]
    [InlineData("Dkim__PrivateKeyPath=/nonexistent/dkim.pem", "Dkim:PrivateKeyPath '/nonexistent/dkim.pem' could not be read")]
    [InlineData("Dkim__Selector=nl2026", "Dkim:PrivateKeyPath is empty")]
    [InlineData("Smtp__Host=smtp.example.test", "Privacy:MailProvider")]
    // Two sections wrong at once: the start-up check throws them together (an AggregateException), not one by one.
    [InlineData("Retention__DailyAt=25:99|Consent__DoiMailsPerAddressPerDay=0", "Retention:DailyAt|Consent:DoiMailsPerAddressPerDay")]
    public async Task A_wrong_setting_stops_start_up_with_a_message_naming_the_key(string variables, string keys)
    {
        var environment = variables.Split('|').Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        var result = await RunAsync(["migrate"], environment: environment);
        Assert.NotEqual(0, result.ExitCode);
        foreach (var key in keys.Split('|')) Assert.Contains(key, result.Error);
        Assert.DoesNotContain("   at ", result.Error); // a message, not a stack trace
    }

    [Fact]
    public async Task Production_refuses_to_start_without_master_key_or_mail_route()
    {
        var result = await RunAsync(["migrate"], environment: new() { ["App__MasterKey"] = "", ["Smtp__PickupDirectory"] = "" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("App:MasterKey", result.Error);
        Assert.Contains("Smtp:Host", result.Error);
    }

    [Fact]
    public async Task Production_web_app_refuses_an_http_PublicBaseUrl_with_a_message_naming_the_key_C46()
    {
        // Other host shapes are refused in-process (PublicBaseUrlTests): this is what the operator sees.
        const string baseUrl = "http://203.0.113.7:8080";
        // No verb: the web app itself; port 0 so that a wrongly started app takes no fixed port.
        var result = await RunAsync([], environment: new() { ["App__PublicBaseUrl"] = baseUrl, ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains($"App:PublicBaseUrl must be an https URL in Production (was '{baseUrl}')", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task A_master_key_that_does_not_belong_to_the_database_stops_start_up()
    {
        Assert.Equal(0, (await RunAsync(["migrate"])).ExitCode);
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var result = await RunAsync(["migrate"], environment: new() { ["App__MasterKey"] = otherKey });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("App:MasterKey is not the key this database was created with", result.Error);
    }

    /// <summary>
    /// What only the process shows: the exit code, the message on standard error and nothing on record.
    /// Each refusal reason is checked in-process (HostileFileTests); a dry run fails the same way, through the
    /// same reader and the same catch in CommandLine, so it needs no launch of its own.
    /// </summary>
    [Fact]
    public async Task Import_of_an_unreadable_empty_or_hostile_file_exits_non_zero_with_a_message_and_records_nothing()
    {
        await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(60));
        var files = new (string Name, byte[] Content, string Message)[]
        {
            ("list.csv", [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0xFF], "binary"),
            ("leer.csv", [], "holds no entries"),
            ("bombe.xlsx", HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB), "zip bomb"),
        };
        foreach (var (name, content, message) in files)
        {
            var path = Path.Combine(_data, name);
            await File.WriteAllBytesAsync(path, content);
            var result = await RunAsync(["import", "--newsletter", "eilmeldungen", path, "--legal-basis", TestImports.LegalBasisText]);
            Assert.True(result.ExitCode != 0, $"{name}: exit 0, {result.Output}");
            Assert.Contains(message, result.Error);
            Assert.DoesNotContain("   at ", result.Error);
        }
        Assert.Equal(0, await CountAsync("ImportBatches") + await CountAsync("Contacts") + await CountAsync("ImportIssues"));
    }

    [Fact]
    public async Task Import_refuses_to_run_without_its_legal_basis_or_a_migration_end_date_except_as_a_dry_run_C36_C16()
    {
        await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        var fixture = Path.Combine(FixtureImportTests.FixtureFolder(), "numbers.txt");

        var refused = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("nothing stored", refused.Error);
        Assert.Contains("--legal-basis \"<text>\"", refused.Error);
        Assert.Contains("no migration end date", refused.Error);
        Assert.Contains("--migration-end", refused.Error);
        Assert.Equal(0, await CountAsync("Contacts") + await CountAsync("ImportBatches"));

        var dryRun = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--dry-run", "--json"]);
        Assert.True(dryRun.ExitCode == 0, dryRun.Error);
        using (var json = JsonDocument.Parse(dryRun.Output)) Assert.Equal(81, json.RootElement.GetProperty("imported").GetInt32());
        Assert.Equal(0, await CountAsync("Contacts") + await CountAsync("ImportBatches"));

        // The legal basis alone is not enough: the numbers need an end date.
        var noEnd = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText]);
        Assert.NotEqual(0, noEnd.ExitCode);
        Assert.DoesNotContain("--legal-basis \"<text>\"", noEnd.Error);
        Assert.Contains("no migration end date", noEnd.Error);

        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(60));
        var badKind = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText, "--legal-basis-kind", "whatever"]);
        Assert.NotEqual(0, badKind.ExitCode);
        Assert.Contains("existing-consent, legitimate-interest, other", badKind.Error);

        var done = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText, "--legal-basis-kind", "legitimate-interest"]);
        Assert.True(done.ExitCode == 0, done.Error);
        Assert.Contains("81 imported", done.Output);
        Assert.Contains($"Legal basis recorded: legitimate-interest: {TestImports.LegalBasisText}", done.Output);
        Assert.Equal(("legitimate-interest", TestImports.LegalBasisText), await SingleBatchBasisAsync());

        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(-1));
        var ended = await RunAsync(["import", "--newsletter", "eilmeldungen", fixture, "--legal-basis", TestImports.LegalBasisText]);
        Assert.NotEqual(0, ended.ExitCode);
        Assert.Contains("migration end date has passed", ended.Error);
    }

    [Fact]
    public async Task Suppress_puts_an_opt_out_list_on_the_suppression_list_and_prints_its_row_report_C36()
    {
        await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"]);
        var list = Path.Combine(_data, "abmeldungen.csv");
        await File.WriteAllTextAsync(list, "Nummer;E-Mail\n0160 1111111;\n;leser@example.test\n0049 160 1111111;\nunbekannt;\n");

        var json = await RunAsync(["suppress", list, "--newsletter", "eilmeldungen", "--json"]);
        Assert.True(json.ExitCode == 0, json.Error);
        Assert.Equal("{\"rows\":4,\"suppressed\":2,\"already\":1,\"invalid\":1}", json.Output.Trim());

        var human = await RunAsync(["suppress", list]);
        Assert.True(human.ExitCode == 0, human.Error);
        Assert.Contains("4 rows read, 0 suppressed, 3 already on the suppression list, 1 invalid", human.Output);
        Assert.Contains("line 5: letters", human.Output);
        Assert.DoesNotContain("1111111", human.Output + human.Error);

        // A suppressed number is never imported.
        await SetMigrationEndAsync(DateTime.UtcNow.AddDays(60));
        var numbers = Path.Combine(_data, "liste.txt");
        await File.WriteAllTextAsync(numbers, "0160 1111111\n0171 2222222\n");
        var import = await RunAsync(["import", "--newsletter", "eilmeldungen", numbers, "--legal-basis", TestImports.LegalBasisText, "--json"]);
        using var doc = JsonDocument.Parse(import.Output);
        Assert.Equal(1, doc.RootElement.GetProperty("imported").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("reasons").GetProperty("suppressed").GetInt32());

        Assert.NotEqual(0, (await RunAsync(["suppress"])).ExitCode);
        Assert.NotEqual(0, (await RunAsync(["suppress", Path.Combine(_data, "missing.csv")])).ExitCode);
    }

    // Until create-newsletter takes --migration-end, the test sets the date in the database the verbs use.
    private async Task SetMigrationEndAsync(DateTime utc)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "cli.db")};Pooling=False");
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = "UPDATE Newsletters SET MigrationEndsAtUtc = $end";
        command.Parameters.AddWithValue("$end", utc.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "cli.db")};Pooling=False");
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM {table}";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private async Task<(string Kind, string Text)> SingleBatchBasisAsync()
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "cli.db")};Pooling=False");
        await connection.OpenAsync();
        var command = connection.CreateCommand();
        command.CommandText = "SELECT LegalBasisKind, LegalBasis FROM ImportBatches";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.GetString(1));
    }

    /// <summary>Columns of the one newsletter, read from the SQLite file the verbs wrote.</summary>
    private async Task<string[]> NewsletterColumnsAsync(params string[] columns)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_data, "cli.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns)} FROM Newsletters";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return [.. columns.Select((_, i) => reader.IsDBNull(i) ? "" : reader.GetString(i))];
    }

    [Fact]
    public async Task Add_feed_sets_up_a_newsletters_feed_and_names_each_wrong_option()
    {
        Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test"])).ExitCode);

        var added = await RunAsync(["add-feed", "--newsletter", "eilmeldungen", "--url", "https://www.tagblatt.example/rss/eilmeldungen.xml",
            "--mode", "breaking", "--auto-send", "--category", "Eilmeldung"]);
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.Contains("Feed 1 added to 'eilmeldungen' (breaking news, sent automatically)", added.Output);
        var digest = await RunAsync(["add-feed", "--newsletter", "eilmeldungen", "--url", "https://www.tagblatt.example/rss/alle.xml", "--mode", "digest", "--at", "07:30", "--days", "mon,wed,fri"]);
        Assert.True(digest.ExitCode == 0, digest.Error);
        Assert.Contains("digest at 07:30 Berlin time", digest.Output);
        Assert.Contains("drafts wait for approval", digest.Output);

        var wrongMode = await RunAsync(["add-feed", "--newsletter", "eilmeldungen", "--url", "https://x.example/rss", "--mode", "weekly"]);
        Assert.Equal(1, wrongMode.ExitCode);
        Assert.Contains("--mode must be 'breaking' or 'digest'", wrongMode.Error);
        var wrongUrl = await RunAsync(["add-feed", "--newsletter", "eilmeldungen", "--url", "ftp://x.example/rss", "--mode", "breaking"]);
        Assert.Equal(1, wrongUrl.ExitCode);
        Assert.Contains("--url: Please enter a complete address starting with http:// or https://.", wrongUrl.Error);
        var twice = await RunAsync(["add-feed", "--newsletter", "eilmeldungen", "--url", "https://www.tagblatt.example/rss/eilmeldungen.xml", "--mode", "breaking"]);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already set up", twice.Error);
        var noNewsletter = await RunAsync(["add-feed", "--newsletter", "gibtsnicht", "--url", "https://x.example/rss", "--mode", "breaking"]);
        Assert.Equal(1, noNewsletter.ExitCode);
        Assert.Contains("No newsletter with the slug 'gibtsnicht'", noNewsletter.Error);
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string? stdin = null, Dictionary<string, string>? environment = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["App__DataDirectory"] = _data,
            ["App__MasterKey"] = MasterKey,
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(_data, "cli.db")}",
            ["Smtp__PickupDirectory"] = Path.Combine(_data, "pickup"),
        };
        foreach (var (k, v) in environment ?? []) settings[k] = v;
        // A web app that started when it should have refused is killed after the timeout.
        return AppProcess.RunAsync(args, settings, _data, stdin);
    }

    private readonly string MasterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
