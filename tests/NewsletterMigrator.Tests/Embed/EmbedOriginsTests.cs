using System.Net;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Embed;

/// <summary>
/// Issue 17: the portals allowed to frame the embed page, as an admin enters them on the settings page or an operator
/// on the command line. Each becomes a CSP frame-ancestors source, so only a bare origin is taken.
/// </summary>
public sealed class EmbedOriginsTests
{
    [Theory]
    [InlineData("https://www.portal.example", "https://www.portal.example")]
    [InlineData(" HTTPS://WWW.Portal.Example/ ", "https://www.portal.example")]
    [InlineData("https://www.portal.example:443", "https://www.portal.example")]
    [InlineData("https://www.portal.example:8443", "https://www.portal.example:8443")]
    [InlineData("https://bücher.example", "https://xn--bcher-kva.example")] // CSP sources are ASCII
    [InlineData("http://localhost:5173", "http://localhost:5173")] // a test portal on this machine
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080")]
    public void An_origin_is_stored_normalized(string typed, string stored)
    {
        var parsed = EmbedOrigins.Parse(typed);
        Assert.True(parsed.IsValid, string.Join(", ", parsed.Invalid));
        Assert.Equal(stored, parsed.Text);
    }

    [Theory]
    [InlineData("http://www.portal.example")] // plain http only on loopback
    [InlineData("https://www.portal.example/artikel")] // browsers ignore a path in frame-ancestors: it would restrict nothing
    [InlineData("https://www.portal.example/?x=1")]
    [InlineData("https://www.portal.example/#top")]
    [InlineData("https://*.portal.example")]
    [InlineData("*")]
    [InlineData("'self'")]
    [InlineData("www.portal.example")]
    [InlineData("ftp://www.portal.example")]
    [InlineData("https://user@www.portal.example")]
    [InlineData("javascript:alert(1)")]
    public void Anything_but_a_bare_https_origin_is_refused(string typed)
    {
        var parsed = EmbedOrigins.Parse(typed);
        Assert.False(parsed.IsValid);
        Assert.Equal([typed.Trim()], parsed.Invalid);
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Development", true)]
    [InlineData("Testing", true)] // the browser tests' portal runs on http://localhost:<port>
    public void Plain_http_on_a_loopback_host_is_taken_outside_Production_only(string environment, bool taken)
    {
        var host = new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment };
        foreach (var typed in new[] { "http://localhost:5173", "http://127.0.0.1:8080", "http://[::1]:8080" })
        {
            var parsed = EmbedOrigins.ParseInput(typed, host);
            Assert.Equal(taken, parsed.IsValid);
            Assert.Equal(taken ? [] : [typed], parsed.Invalid);
        }
        // https on loopback is a bare https origin like any other.
        Assert.True(EmbedOrigins.ParseInput("https://localhost:8443", host).IsValid);
        Assert.False(EmbedOrigins.ParseInput("http://www.portal.example", host).IsValid);
    }

    [Theory]
    [InlineData("Production", false)]
    [InlineData("Testing", true)]
    public async Task The_settings_page_takes_a_plain_http_loopback_origin_outside_Production_only(string environment, bool taken)
    {
        await using var app = new AppFactory(environment: environment, settings: new() { ["Privacy:MailProvider"] = "Beispiel Mail GmbH, Berlin" });
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var path = $"/admin/newsletters/edit/{newsletter.Id}";
        var page = await admin.GetStringAsync(path);
        var fields = SettingsForm(page);
        fields["Input.EmbedOrigins"] = "http://localhost:5173";
        var response = await admin.PostFormAsync(path, page, fields);
        var stored = await app.WithDbAsync(db => db.Newsletters.Select(n => n.EmbedOrigins).SingleAsync());
        if (taken)
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("http://localhost:5173", stored);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Keine gültige Herkunft: http://localhost:5173.", WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
            Assert.Equal("", stored);
        }
    }

    [Fact]
    public void A_list_is_read_line_by_line_or_comma_separated_and_each_origin_kept_once()
    {
        var parsed = EmbedOrigins.Parse("https://www.portal.example\r\nhttps://m.portal.example, https://WWW.portal.example/\n\n");
        Assert.Equal(["https://www.portal.example", "https://m.portal.example"], parsed.Origins);
        Assert.Equal("https://www.portal.example\nhttps://m.portal.example", parsed.Text);
        Assert.True(EmbedOrigins.Parse("").IsValid);
        Assert.Empty(EmbedOrigins.Parse("  ").Origins);
    }

    [Fact]
    public async Task The_settings_page_refuses_a_bad_origin_in_German_and_English_saves_nothing_and_offers_the_snippets()
    {
        await using var app = new AppFactory();
        var newsletter = await app.NewsletterAsync();
        var admin = await app.AdminAsync();
        var path = $"/admin/newsletters/edit/{newsletter.Id}";

        var page = await admin.GetStringAsync(path);
        var fields = SettingsForm(page);
        fields["Input.Name"] = "Geändert";
        fields["Input.EmbedOrigins"] = "https://www.portal.example\nhttps://www.portal.example/artikel";
        var refused = await admin.PostFormAsync(path, page, fields);
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Keine gültige Herkunft: https://www.portal.example/artikel.", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        var stored = await app.WithDbAsync(db => db.Newsletters.Select(n => new { n.Name, n.EmbedOrigins }).SingleAsync());
        Assert.Equal(("Tagblatt Eilmeldungen", ""), (stored.Name, stored.EmbedOrigins));

        var english = new HttpRequestMessage(HttpMethod.Post, path);
        fields["__RequestVerificationToken"] = Html.AntiforgeryToken(page);
        english.Content = new FormUrlEncodedContent(fields);
        english.Headers.AcceptLanguage.ParseAdd("en");
        Assert.Contains("Not a valid origin: https://www.portal.example/artikel.", WebUtility.HtmlDecode(await (await admin.SendAsync(english)).Content.ReadAsStringAsync()));

        // Good origins are saved normalized, once each, and the page shows what the portal pastes.
        var good = await admin.GetStringAsync(path);
        var goodFields = SettingsForm(good);
        goodFields["Input.EmbedOrigins"] = "https://WWW.portal.example/\r\nhttps://m.portal.example\r\nhttps://www.portal.example";
        Assert.Equal(HttpStatusCode.Redirect, (await admin.PostFormAsync(path, good, goodFields)).StatusCode);
        Assert.Equal("https://www.portal.example\nhttps://m.portal.example", await app.WithDbAsync(db => db.Newsletters.Select(n => n.EmbedOrigins).SingleAsync()));

        var saved = WebUtility.HtmlDecode(await admin.GetStringAsync(path));
        Assert.Contains("<iframe src=\"http://localhost/n/eilmeldungen/embed\" title=\"Newsletter-Anmeldung: Tagblatt Eilmeldungen\" width=\"100%\" height=\"560\" loading=\"lazy\" data-newsletter-embed></iframe>", saved);
        Assert.Contains("<script src=\"http://localhost/js/embed.js\" async></script>", saved);
        Assert.Contains("<a href=\"http://localhost/n/eilmeldungen\" class=\"newsletter-signup-link\">Tagblatt Eilmeldungen per E-Mail abonnieren</a>", saved);
        Assert.Contains("Nur Seiten dieser Herkünfte dürfen das Anmeldeformular", saved);
    }

    [Fact]
    public async Task The_command_line_sets_checks_and_clears_the_embed_origins()
    {
        var data = Directory.CreateTempSubdirectory("nm-cli-embed-").FullName;
        try
        {
            var settings = new Dictionary<string, string?>
            {
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["App__DataDirectory"] = data,
                ["App__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Database__ConnectionString"] = $"Data Source={System.IO.Path.Combine(data, "cli.db")}",
                ["Smtp__PickupDirectory"] = System.IO.Path.Combine(data, "pickup"),
            };
            Task<(int ExitCode, string Output, string Error)> Run(params string[] args) => AppProcess.RunAsync(args, settings, data, null);

            Assert.Equal(0, (await Run("create-newsletter", "--slug", "eilmeldungen", "--name", "Tagblatt", "--from", "news@example.test")).ExitCode);
            var set = await Run("update-newsletter", "--slug", "eilmeldungen", "--embed-origins", "https://www.portal.example,https://M.portal.example/");
            Assert.True(set.ExitCode == 0, set.Error);
            Assert.Contains("Embed page /n/eilmeldungen/embed: may be framed by https://www.portal.example, https://m.portal.example.", set.Output);

            var bad = await Run("update-newsletter", "--slug", "eilmeldungen", "--embed-origins", "https://www.portal.example,http://evil.example/x");
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("--embed-origins: not a valid origin: http://evil.example/x.", bad.Error);
            Assert.Contains("nothing was saved", bad.Error);

            // This process runs in Production: a portal on the operator's own machine is no portal readers see.
            var loopback = await Run("update-newsletter", "--slug", "eilmeldungen", "--embed-origins", "http://localhost:5173");
            Assert.NotEqual(0, loopback.ExitCode);
            Assert.Contains("--embed-origins: not a valid origin: http://localhost:5173.", loopback.Error);

            var unchanged = await Run("update-newsletter", "--slug", "eilmeldungen");
            Assert.Contains("may be framed by https://www.portal.example, https://m.portal.example.", unchanged.Output);

            var cleared = await Run("update-newsletter", "--slug", "eilmeldungen", "--embed-origins", "");
            Assert.True(cleared.ExitCode == 0, cleared.Error);
            Assert.Contains("Embed page /n/eilmeldungen/embed: no portal may frame it", cleared.Output);

            // Outside Production it is taken, for a test portal on this machine.
            settings["DOTNET_ENVIRONMENT"] = settings["ASPNETCORE_ENVIRONMENT"] = "Testing";
            var testing = await Run("update-newsletter", "--slug", "eilmeldungen", "--embed-origins", "http://localhost:5173");
            Assert.True(testing.ExitCode == 0, testing.Error);
            Assert.Contains("may be framed by http://localhost:5173.", testing.Output);
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static Dictionary<string, string> SettingsForm(string page)
    {
        var fields = new Dictionary<string, string>();
        foreach (var name in new[] { "Input.Name", "Input.Slug", "Input.SenderName", "Input.SenderAddress", "Input.DefaultRegion", "Input.MigrationEndDate",
                     "Input.ControllerName", "Input.ControllerAddress", "Input.ControllerEmail", "Input.ImpressumUrl", "Input.PrivacyNoticeUrl", "Input.PrivacyNoticeVersion" })
            fields[name] = Html.InputValue(page, name) ?? "";
        foreach (var name in new[] { "Input.InvitationMessage", "Input.Impressum", "Input.EmbedOrigins" })
            fields[name] = Html.TextAreaValue(page, name) ?? "";
        return fields;
    }
}
