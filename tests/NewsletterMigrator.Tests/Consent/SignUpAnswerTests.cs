using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Tests.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The probe's good result kept (issue 13): the sign-up page tells nobody whether an address is known (C30). The
/// answer is the same page, and the request does the same database reads, for a new, a pending, a confirmed and an
/// unsubscribed address. The time is not measured here: the page pads every answer to a minimum time, and the
/// work it pads is measured in bench/ (sign-up).
/// </summary>
public sealed partial class SignUpAnswerTests
{
    private const string ProbeHeader = "X-Test-Probe";

    [ProviderTheory, DatabaseProviders]
    public async Task New_pending_confirmed_and_unsubscribed_addresses_get_the_same_answer_from_the_same_reads_C30(DatabaseProvider provider)
    {
        var log = new StatementLog();
        await using var app = new AppFactory(kestrel: true, provider: provider, settings: new() { ["Consent:SignUpMinimumDuration"] = "00:00:00.050" })
        {
            TestServices = services =>
            {
                services.AddHttpContextAccessor();
                // Options are built for the provider's context type, so the recorder is added to both (one is used).
                services.ConfigureDbContext<SqliteAppDbContext>((sp, options) => options.AddInterceptors(log.For(sp.GetRequiredService<IHttpContextAccessor>())));
                services.ConfigureDbContext<PostgresAppDbContext>((sp, options) => options.AddInterceptors(log.For(sp.GetRequiredService<IHttpContextAccessor>())));
            },
        };
        app.StartServer();
        await app.NewsletterAsync();
        // Addresses of one length, so only what the page says could tell them apart.
        await app.SignUpAsync("/n/eilmeldungen", "pend@example.test");
        await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", "conf@example.test");
        await app.ConfirmedReaderAsync(app.Smtp, "/n/eilmeldungen", "unsu@example.test");
        await app.WithDbAsync(db => db.Subscribers.Where(s => s.EmailKey == "unsu@example.test")
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.Status, SubscriberStatus.Unsubscribed)));

        var answers = new Dictionary<string, (HttpStatusCode Status, string Body)>();
        foreach (var (kind, email) in new[] { ("new", "newa@example.test"), ("pending", "pend@example.test"), ("confirmed", "conf@example.test"), ("unsubscribed", "unsu@example.test") })
        {
            using var browser = app.RealBrowser();
            var page = await browser.GetStringAsync("/n/eilmeldungen");
            browser.DefaultRequestHeaders.Add(ProbeHeader, kind);
            var response = await browser.PostFormAsync("/n/eilmeldungen", page, TestData.SignUpForm(page, email));
            answers[kind] = (response.StatusCode, PerRequestValues().Replace(await response.Content.ReadAsStringAsync(), ""));
        }

        Assert.All(answers.Values, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(answers.Values, a => Assert.Equal(answers["new"].Body.Length, a.Body.Length));
        Assert.All(answers.Values, a => Assert.Equal(answers["new"].Body, a.Body));
        Assert.Contains("Bitte sehen Sie in Ihr Postfach", answers["new"].Body);

        // The same reads, in the same order, whatever is stored for the address. Only the writes differ: a DOI mail
        // for the new and the unsubscribed address, none for the pending one within the interval or the confirmed one.
        // (The time these cost is padded to the minimum answer time; bench/ sign-up measures it.)
        var reads = log.Reads("new");
        Assert.Contains(reads, r => r.Contains("\"ConsentEvents\""));
        foreach (var kind in answers.Keys) Assert.Equal(reads, log.Reads(kind));
        Assert.Contains(log.Writes("new"), w => w.Contains("INSERT INTO \"OutboundMessages\""));
        Assert.DoesNotContain(log.Writes("confirmed"), w => w.Contains("INSERT INTO \"OutboundMessages\""));
    }

    // The antiforgery token (and any other hidden value) and a CSP nonce differ per response.
    [GeneratedRegex("(value|nonce)=\"[^\"]*\"")]
    private static partial Regex PerRequestValues();

    /// <summary>The SQL each probed request ran, by the probe's name; the background workers' statements are not requests.</summary>
    private sealed class StatementLog
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _statements = new();

        public IInterceptor For(IHttpContextAccessor http) => new Recorder(this, http);

        public List<string> Reads(string probe) => Of(probe).Where(IsRead).ToList();

        public List<string> Writes(string probe) => Of(probe).Where(s => !IsRead(s)).ToList();

        private static bool IsRead(string statement) => statement.StartsWith("SELECT", StringComparison.Ordinal);

        private IEnumerable<string> Of(string probe) => _statements.TryGetValue(probe, out var list) ? list : [];

        private sealed class Recorder(StatementLog log, IHttpContextAccessor http) : DbCommandInterceptor
        {
            public override DbCommand CommandInitialized(CommandEndEventData eventData, DbCommand result)
            {
                if (http.HttpContext?.Request.Headers[ProbeHeader].ToString() is { Length: > 0 } probe)
                    log._statements.GetOrAdd(probe, _ => new()).Enqueue(result.CommandText.Trim());
                return result;
            }
        }
    }
}
