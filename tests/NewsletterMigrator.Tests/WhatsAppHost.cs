using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// The real app with its WhatsApp worker, on a real SQLite file, talking to <see cref="FakeGraphApi"/>, with a clock the
/// test moves instead of waiting (issue 14). Instances made with <see cref="StartAnotherAsync"/> share the database file
/// and the clock, as two servers of one portal would.
/// </summary>
public sealed class WhatsAppHost : IAsyncDisposable
{
    /// <summary>How long a test waits for the worker to reach a state it must reach.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long the worker gets to do what it must not do: many poll rounds (200 ms), and a dozen batches at the tests'
    /// sending rate. Nothing else proves an absence.
    /// </summary>
    public static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);

    private readonly List<AppFactory> _apps = [];

    public WhatsAppHost(Dictionary<string, string?>? settings = null, FakeGraphApi? graph = null)
    {
        Graph = graph ?? new FakeGraphApi();
        Settings = Graph.Settings();
        Settings["WhatsApp:MessagesPerSecond"] = "1000";
        foreach (var (key, value) in settings ?? []) Settings[key] = value;
        _apps.Add(Make(Settings, reuse: null));
    }

    public FakeGraphApi Graph { get; }
    public SettableClock Clock { get; } = new();
    public Dictionary<string, string?> Settings { get; }
    /// <summary>The newest instance: the one a test talks to (after a restart, the restarted one).</summary>
    public AppFactory App => _apps[^1];

    private AppFactory Make(Dictionary<string, string?> settings, AppFactory? reuse) =>
        new(settings: settings, reuse: reuse) { TestServices = s => s.AddSingleton<TimeProvider>(Clock) };

    /// <summary>Another instance on the same database file and clock (its worker starts at once), with settings of its own on top.</summary>
    public AppFactory StartAnother(Dictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(Settings);
        foreach (var (key, value) in overrides ?? []) settings[key] = value;
        var app = Make(settings, reuse: _apps[0]);
        _ = app.Services; // starts the host and with it the worker
        _apps.Add(app);
        return app;
    }

    /// <summary>The clock at the given Berlin wall-clock time (forward only, so leases and retries behave as in life).</summary>
    public void SetBerlinTime(DateTime local)
    {
        var target = Berlin.ToUtc(local);
        var now = Clock.GetUtcNow().UtcDateTime;
        if (target < now) throw new ArgumentException($"The clock only moves forward ({Berlin.Format(now)} is later than {local:g}).");
        Clock.Advance(target - now);
    }

    /// <summary>Moves the clock forward to the next time the Berlin clocks show <paramref name="time"/>.</summary>
    public void MoveToNextBerlin(TimeOnly time)
    {
        var today = BerlinToday.ToDateTime(time);
        SetBerlinTime(Berlin.ToUtc(today) > Now ? today : today.AddDays(1));
    }

    public DateTime Now => Clock.GetUtcNow().UtcDateTime;

    /// <summary>The Berlin date of the clock's today, for "at 21:00 tonight" and "09:00 tomorrow".</summary>
    public DateOnly BerlinToday => DateOnly.FromDateTime(Berlin.ToLocal(Now));

    /// <summary>A newsletter with <paramref name="count"/> imported contacts (mobile numbers 0160 1000000 on), migration ending in a month.</summary>
    public async Task<Newsletter> NewsletterWithContactsAsync(int count)
    {
        var newsletter = await App.NewsletterAsync();
        await App.ImportAsync(newsletter, "liste.csv", Enumerable.Range(0, count).Select(i => (Number(i), $"Leser {i}")).ToArray());
        await App.SetMigrationEndAsync(newsletter, DateOnly.FromDateTime(Now.AddDays(30)));
        return newsletter;
    }

    /// <summary>The i-th imported number, as the importer read it and as Meta writes it ("to", "wa_id", "from").</summary>
    public static string Number(int i) => $"0160 {1_000_000 + i}";

    public static string WaId(int i) => $"49160{1_000_000 + i}";

    /// <summary>"Invite everyone" through the service the WhatsApp page calls.</summary>
    public async Task<int> QueueAllAsync(Newsletter newsletter)
    {
        await using var scope = App.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<WhatsAppInvitations>().EnqueueAllAsync(newsletter, null, "test"))!.Value;
    }

    public Task<TResult> WithDbAsync<TResult>(Func<AppDbContext, Task<TResult>> query) => App.WithDbAsync(query);

    public Task<List<WhatsAppMessage>> MessagesAsync() =>
        WithDbAsync(db => db.WhatsAppMessages.AsNoTracking().OrderBy(m => m.Id).ToListAsync());

    public Task<int> AcceptedAsync() => WithDbAsync(db => db.WhatsAppMessages.CountAsync(m => m.AcceptedAtUtc != null));

    public Task<WhatsAppAccount> AccountAsync() =>
        WithDbAsync(db => db.WhatsAppAccounts.AsNoTracking().SingleAsync(a => a.Id == WhatsAppAccount.SingleId));

    /// <summary>Waits until the condition holds on the database, or fails the test with what it was waiting for.</summary>
    public async Task WaitForAsync(Func<AppDbContext, Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            if (await WithDbAsync(condition)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"Waited in vain for: {what}.");
    }

    public Task WaitForAcceptedAsync(int count) =>
        WaitForAsync(async db => await db.WhatsAppMessages.CountAsync(m => m.AcceptedAtUtc != null) >= count, $"{count} accepted invitations");

    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited in vain for: {what}.");
            await Task.Delay(50);
        }
    }

    /// <summary>Gives the worker <see cref="Quiet"/> to send more and returns how many requests reached Meta by then.</summary>
    public async Task<int> RequestsAfterQuietAsync()
    {
        await Task.Delay(Quiet);
        return Graph.Requests.Count;
    }

    /// <summary>A webhook signed with the app secret, as Meta posts it, to the given instance (the first by default).</summary>
    public async Task PostWebhookAsync(string body, AppFactory? to = null)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("X-Hub-Signature-256", FakeGraphApi.Sign(body, FakeGraphApi.AppSecret));
        var response = await (to ?? App).CreateClient().PostAsync("/webhooks/whatsapp", content);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public long UnixNow => new DateTimeOffset(Now).ToUnixTimeSeconds();

    public Task<bool> SuppressedAsync(int i)
    {
        var hmac = App.Service<PhoneProtector>().Hmac("+" + WaId(i));
        return WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Phone && s.Hash == hmac));
    }

    public async Task ResumeAsync()
    {
        await using var scope = App.Services.CreateAsyncScope();
        Assert.Equal(ResumeOutcome.Resumed, await scope.ServiceProvider.GetRequiredService<WhatsAppAccounts>().ResumeAsync("admin@example.test"));
    }

    /// <summary>
    /// The most acceptances in any moving 24 hours: for each acceptance, those in the 24 hours up to and including it
    /// (the window the worker counts, (t − 24 h, t]).
    /// </summary>
    public static int MostInAnyDay(IReadOnlyList<DateTime> acceptedUtc)
    {
        var sorted = acceptedUtc.Order().ToList();
        var most = 0;
        var first = 0;
        for (var last = 0; last < sorted.Count; last++)
        {
            while (sorted[first] <= sorted[last] - TimeSpan.FromHours(24)) first++;
            most = Math.Max(most, last - first + 1);
        }
        return most;
    }

    public async ValueTask DisposeAsync()
    {
        // Successors first: the first instance owns the data folder.
        for (var i = _apps.Count - 1; i >= 0; i--) await _apps[i].DisposeAsync();
        await Graph.DisposeAsync();
    }
}
