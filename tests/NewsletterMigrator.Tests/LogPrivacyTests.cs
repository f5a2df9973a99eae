using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// C20: the whole journey at Trace level for every category, captured by an extra logger provider; no line,
/// scope or exception may contain the reader's addresses, the phone number in any shape, or any token from a link.
/// </summary>
public sealed partial class LogPrivacyTests : IAsyncLifetime
{
    private const string Reader = "leserin@example.test";
    private const string NewAddress = "neue.adresse@example.test";
    private const string Admin = "chefin@example.test";
    // The second access link follows the first at once.
    private readonly AppFactory _base = new(settings: new() { ["Manage:AccessLinkInterval"] = "00:00:00" });
    private readonly CapturingLoggerProvider _logs = new();
    private WebApplicationFactory<Program> _app = null!;
    private readonly HashSet<string> _tokens = [];

    public Task InitializeAsync()
    {
        _app = _base.WithWebHostBuilder(b => b.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Trace);
            logging.AddProvider(_logs);
            // A provider-specific rule beats the category rules from appsettings (Microsoft.AspNetCore: Warning).
            logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
        }));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _base.DisposeAsync();
    }

    [Fact]
    public async Task No_log_line_contains_an_address_a_phone_number_or_a_token_C20()
    {
        var staff = _app.Reader();
        var setup = await staff.GetStringAsync("/setup");
        await staff.PostFormAsync("/setup", setup, new()
        {
            ["Code"] = _app.Services.GetRequiredService<SetupCode>().Value, ["Email"] = Admin, ["Password"] = "correct horse battery",
        });
        var form = await staff.GetStringAsync("/admin/newsletters/edit");
        await staff.PostFormAsync("/admin/newsletters/edit", form, new Dictionary<string, string>
        {
            ["Input.Name"] = "Tagblatt Eilmeldungen", ["Input.Slug"] = "eilmeldungen", ["Input.SenderName"] = "Tagblatt",
            ["Input.SenderAddress"] = "newsletter@tagblatt.example.test", ["Input.DefaultRegion"] = "DE", ["Input.Impressum"] = "Tagblatt GmbH",
            ["Input.PrivacyNoticeUrl"] = "https://tagblatt.example.test/datenschutz", ["Input.InvitationMessage"] = "Hallo {name}: {link}",
            ["Input.MigrationEndDate"] = DateTime.UtcNow.AddDays(60).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        }.WithLegalIdentity());
        var newsletter = await Db(db => db.Newsletters.SingleAsync());

        // Import, contact list with the number and the wa.me draft.
        await staff.ImportThroughUiAsync(newsletter.Id, "liste.csv",
            Encoding.UTF8.GetBytes("Telefonnummer;Name\r\n0160 24 24 24 0;Anna Muster\r\n"), "WhatsApp-Einwilligung");
        var invitation = Remember(new Uri(Html.Links(await staff.GetStringAsync($"/admin/contacts/{newsletter.Id}")).First(l => l.Contains("/i/"))).AbsolutePath);

        // The reader: invitation, sign-up, DOI, confirmation.
        var reader = await _app.ConfirmedReaderAsync(_base.Smtp, invitation, Reader);
        RememberAll(_base.Smtp.Messages);

        // The admin looks the number and the address up (both appear in query strings).
        await staff.GetStringAsync("/admin/privacy/subscribers?q=" + Uri.EscapeDataString("+49 160 2424240"));
        await staff.GetStringAsync("/admin/privacy/subscribers?q=" + Uri.EscapeDataString(Reader));

        // A newsletter, the preference page, the access link, export, change of address.
        var mail = await _app.NewsletterMailAsync(_base.Smtp, newsletter, Reader, "Eilmeldung");
        RememberAll([mail]);
        var manage = ReaderSteps.PathOf(mail, "/manage/");
        var page = await reader.GetStringAsync(manage);
        await reader.PostFormAsync(manage + "?handler=Language", page, new() { ["language"] = "en" });
        await reader.PostFormAsync(manage + "?handler=Access", page, []);
        var accessMail = await _base.Smtp.WaitForAsync(m => m.To.ToString().Contains(Reader, StringComparison.OrdinalIgnoreCase) && m.HtmlBody?.Contains("/manage/access/") == true);
        RememberAll([accessMail]);
        var access = ReaderSteps.PathOf(accessMail, "/manage/access/");
        var accessPage = await reader.GetStringAsync(access);
        await reader.PostFormAsync(access + "?handler=Export", accessPage, []);
        await reader.PostFormAsync(access + "?handler=Change", accessPage, new() { ["newEmail"] = NewAddress });
        var changeMail = await _base.Smtp.WaitForAsync(m => m.To.ToString().Contains(NewAddress, StringComparison.OrdinalIgnoreCase));
        RememberAll([changeMail]);
        var change = ReaderSteps.PathOf(changeMail, "/manage/change/");
        await reader.PostFormAsync(change, await reader.GetStringAsync(change), []);

        // One-click unsubscribe, a forged token, then erasure through a fresh access link to the new address.
        var unsubscribe = ReaderSteps.PathOf(mail, "/u/");
        using (var provider = _app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false }))
            await provider.PostAsync(unsubscribe, new StringContent("List-Unsubscribe=One-Click", Encoding.ASCII, "application/x-www-form-urlencoded"));
        await reader.GetAsync("/confirm/" + Remember("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd"));
        page = await reader.GetStringAsync(manage);
        await reader.PostFormAsync(manage + "?handler=Access", page, []);
        var secondAccess = await _base.Smtp.WaitForAsync(m => m.To.ToString().Contains(NewAddress, StringComparison.OrdinalIgnoreCase) && m.HtmlBody?.Contains("/manage/access/") == true);
        RememberAll([secondAccess]);
        access = ReaderSteps.PathOf(secondAccess, "/manage/access/");
        accessPage = await reader.GetStringAsync(access);
        var confirmErase = await (await reader.PostFormAsync(access + "?handler=Erase", accessPage, [])).Content.ReadAsStringAsync();
        await reader.PostFormAsync(access + "?handler=EraseConfirmed", confirmErase, []);
        Assert.False(await Db(db => db.Subscribers.AnyAsync()));

        // The capture works: ASP.NET's own request logs are there (so a leak would be seen).
        var lines = _logs.Lines.ToList();
        Assert.Contains(lines, l => l.Contains("Request starting") && l.Contains("/manage/"));
        Assert.True(_tokens.Count >= 6, $"only {_tokens.Count} tokens seen");

        string[] secrets = [Reader, NewAddress, "+491602424240", "491602424240", "01602424240", "1602424240", "0160 24 24 24 0", "Anna Muster",
            Uri.EscapeDataString(Reader), Uri.EscapeDataString("+49 160 2424240"), "0160+24+24+24+0", .. _tokens];
        var leaks = lines.SelectMany(l => secrets.Where(s => l.Contains(s, StringComparison.OrdinalIgnoreCase)).Select(s => $"{s} in: {l}")).ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks.Take(10)));
    }

    private string Remember(string path)
    {
        foreach (Match m in TokenPattern().Matches(path)) _tokens.Add(m.Value);
        return path;
    }

    private void RememberAll(IEnumerable<MimeMessage> mails)
    {
        foreach (var mail in mails)
        {
            foreach (var link in Html.Links(mail.HtmlBody)) Remember(link);
            foreach (var header in mail.Headers) Remember(header.Value);
        }
    }

    private async Task<T> Db<T>(Func<AppDbContext, Task<T>> query)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<AppDbContext>());
    }

    [GeneratedRegex("(?<=/)[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")]
    private static partial Regex TokenPattern();
}

/// <summary>Records every log line with its scopes and exception, as a console or file provider would write them.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder($"{logLevel} {category}: {formatter(state, exception)}");
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values) line.Append($" | {key}={value}");
            owner._scopes.ForEachScope((scope, sb) => sb.Append(" => ").Append(scope), line);
            if (exception is not null) line.Append(' ').Append(exception);
            owner.Lines.Enqueue(line.ToString());
        }
    }
}
