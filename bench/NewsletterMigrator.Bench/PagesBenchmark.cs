using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The reader's pages under load (issue 17, point 2): the app in this process on real Kestrel (loopback) and a SQLite
/// file, a newsletter with its full legal identity, consent texts in German and English and an imported contact list,
/// driven by wrk over loopback. Side by side in one run: a minimal Razor page of the same app (the yardstick), the
/// consent page by slug and by personal token (every request another token), the confirm page GET, and the sign-up
/// POST with its antiforgery cookie and field (every request another address) at 512 connections. Afterwards it checks
/// in the database that every sign-up answered "check your mail" has its ledger row and its DOI outbox row.
/// </summary>
public static class PagesBenchmark
{
    private const string Slug = "eilmeldungen";
    private const string Browser = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10;
        var contacts = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000;
        // For profiling one of them: minimal, slug, token, confirm or post (the yardstick always runs).
        var only = args.Length > 2 ? args[2] : null;
        var wrk = FindOnPath("wrk");
        if (wrk is null)
        {
            Console.Error.WriteLine("pages: wrk is not installed (it is the load generator). Install it with: apt-get install -y wrk");
            return 1;
        }
        var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-").FullName;
        await using var smtp = new CountingSmtpServer();
        WebApplication? app = null;
        try
        {
            app = BuildApp(dataDirectory, smtp.Port);
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            await app.MigrateDatabaseAsync();
            app.UseWebFrontEnd();
            await app.StartAsync();
            var baseUrl = app.Urls.Single();

            var seeding = Stopwatch.StartNew();
            var seed = await SeedAsync(app, contacts, dataDirectory);
            var form = await FormAsync(baseUrl);
            Console.WriteLine($"pages: {seconds} s per run after a {WarmUpSeconds(seconds)} s warm-up, {contacts:N0} imported contacts (seeded in {seeding.Elapsed.TotalSeconds:N0} s), " +
                              $"{Environment.ProcessorCount} CPU(s), load average before: {LoadAverage()}, GC {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}");
            Console.WriteLine($"       wrk and the app share this machine's cores; figures from a machine other jobs are using are noisy.");

            var work = Path.Combine(dataDirectory, "wrk");
            Directory.CreateDirectory(work);
            var invitePaths = WritePaths(work, "invite.txt", seed.InviteTokens.Select(t => $"/i/{t}"));
            var confirmPaths = WritePaths(work, "confirm.txt", seed.ConfirmTokens.Select(t => $"/confirm/{t}"));

            var runs = new List<(string Name, Result Result)>();
            async Task<Result> Measure(string name, int connections, string script)
            {
                var path = Path.Combine(work, $"{runs.Count}.lua");
                await File.WriteAllTextAsync(path, script);
                await RunWrkAsync(wrk, baseUrl, connections, WarmUpSeconds(seconds), path); // JIT, caches, connection set-up
                var result = await RunWrkAsync(wrk, baseUrl, connections, seconds, path);
                runs.Add((name, result));
                return result;
            }

            Console.WriteLine($"       process id {Environment.ProcessId}");
            var minimal = await Measure("minimal page (yardstick)", 16, GetScript(null, "/bench/minimal"));
            if (only is null or "slug") await Measure($"GET /n/{{slug}}", 16, GetScript(null, $"/n/{Slug}"));
            if (only is null or "token") await Measure($"GET /i/{{token}} ({seed.InviteTokens.Count:N0} tokens)", 16, GetScript(invitePaths, null));
            if (only is null or "confirm") await Measure($"GET /confirm/{{token}} ({seed.ConfirmTokens.Count:N0})", 16, GetScript(confirmPaths, null));
            Result? post = null;
            if (only is null or "post")
            {
                // The warm-up's sign-ups are real sign-ups too: the check below counts the measured run's addresses only.
                var postScript = PostScript(form);
                var postPath = Path.Combine(work, "post.lua");
                await File.WriteAllTextAsync(postPath, postScript.Replace("RUN", "w"));
                await RunWrkAsync(wrk, baseUrl, 512, WarmUpSeconds(seconds), postPath);
                await File.WriteAllTextAsync(postPath, postScript.Replace("RUN", "m"));
                post = await RunWrkAsync(wrk, baseUrl, 512, seconds, postPath);
                runs.Add(("POST /n/{slug} sign-up", post));
            }

            var minimumMs = app.Services.GetRequiredService<IOptions<ConsentOptions>>().Value.SignUpMinimumDuration.TotalMilliseconds;
            Console.WriteLine();
            Console.WriteLine($"{"",-36} {"conns",5} {"requests/s",11} {"p50 ms",8} {"p99 ms",8} {"vs yardstick",12} {"errors",7}");
            foreach (var (name, r) in runs)
                Console.WriteLine($"{name,-36} {r.Connections,5} {r.RequestsPerSecond,11:N0} {r.P50Ms,8:N1} {r.P99Ms,8:N1} {r.RequestsPerSecond / minimal.RequestsPerSecond,12:P0} {r.Errors,7}");
            if (post is not null)
                Console.WriteLine($"{"  of which completed sign-ups",-36} {"",5} {post.Succeeded / post.Seconds,11:N0}   (answered 'check your mail': {post.Succeeded:N0}; other answers: {post.Requests - post.Succeeded:N0})");

            Console.WriteLine();
            foreach (var (name, r) in runs.Skip(1).Where(r => r.Result != post))
                Verdict($"{name}: >= 50 % of the yardstick's rate and p99 < 20 ms",
                    r.RequestsPerSecond >= 0.5 * minimal.RequestsPerSecond && r.P99Ms < 20);
            if (post is null) return 0;
            Verdict($"sign-up POST: >= 1,000 completed sign-ups/s at 512 connections and p99 < {minimumMs + 50:N0} ms",
                post.Succeeded / post.Seconds >= 1000 && post.P99Ms < minimumMs + 50);

            // Requests still in flight when wrk stopped finish on the server; give them the minimum answer time and more.
            await Task.Delay(TimeSpan.FromMilliseconds(minimumMs * 3));
            return await VerifySignUpsAsync(app, post.Succeeded) ? 0 : 1;
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static int WarmUpSeconds(int seconds) => Math.Max(2, seconds / 3);

    /// <summary>The app as Program.cs builds it (Production), listening on a free loopback port, plus the yardstick page.</summary>
    private static WebApplication BuildApp(string dataDirectory, int smtpPort)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Production",
            // The app's Razor pages are found through the application name; the bench's own page is added below.
            ApplicationName = typeof(WebSetup).Assembly.GetName().Name,
            Args = [],
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["App:PublicBaseUrl"] = "https://news.example.test",
            ["App:DataDirectory"] = dataDirectory,
            ["App:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "bench.db")}",
            ["Smtp:Host"] = "127.0.0.1",
            ["Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Smtp:Security"] = "None",
            ["Privacy:MailProvider"] = "Bench Mail GmbH", // Production names the processor (C40)
            // Every request comes from 127.0.0.1: the per-IP limit (C31) would stop the bench after 60 sign-ups.
            ["Consent:SignUpsPerIpPerHour"] = "100000000",
            // The table must stay readable: the app's Information line per sign-up would flood it (PROFILE.md measures its cost).
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddValidatedOptions();
        builder.AddStorage();
        builder.AddStaffIdentity();
        builder.AddNewsletterFeatures();
        builder.AddWebFrontEnd();
        builder.Services.AddRazorPages().AddApplicationPart(typeof(PagesBenchmark).Assembly);
        return builder.Build();
    }

    private sealed record Seed(IReadOnlyList<string> InviteTokens, IReadOnlyList<string> ConfirmTokens);

    private static async Task<Seed> SeedAsync(WebApplication app, int contacts, string dataDirectory)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<AppDbContext>();
        var newsletter = await services.GetRequiredService<NewsletterService>().CreateAsync(new Newsletter
        {
            Slug = Slug, Name = "Tagblatt Eilmeldungen", SenderName = "Tagblatt", SenderAddress = "newsletter@news.example.test",
            Impressum = "Tagblatt Verlag GmbH\nMusterstraße 1, 12345 Musterstadt\nGeschäftsführung: Erika Mustermann\nHRB 12345, Amtsgericht Musterstadt\nUSt-IdNr. DE123456789",
            ControllerName = "Tagblatt Verlag GmbH", ControllerAddress = "Musterstraße 1, 12345 Musterstadt", ControllerEmail = "datenschutz@news.example.test",
            DataProtectionOfficer = "Datenschutz Nord GmbH, Hafenweg 2, 20457 Hamburg, dsb@datenschutz-nord.example.test",
            SupervisoryAuthority = "Die Landesbeauftragte für den Datenschutz Niedersachsen",
            PrivacyNoticeUrl = "https://news.example.test/datenschutz", PrivacyNoticeVersion = "2026-11",
            MigrationEndsAtUtc = DateTime.UtcNow.AddDays(30), // required before an import
        }, "bench");
        if (!LegalReadiness.IsOpen(newsletter)) throw new InvalidOperationException("The bench newsletter is not open for sign-ups.");

        // The WhatsApp list the invitations go to, imported as an editor would.
        var list = Path.Combine(dataDirectory, "kontakte.csv");
        ListGenerator.Write(list, contacts);
        await using (var file = File.OpenRead(list))
        {
            var summary = await services.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, "kontakte.csv", "bench",
                new ImportLegalBasis(LegalBases.ExistingConsent, "bestehende Einwilligung zum WhatsApp-Newsletter"));
            if (summary.Imported == 0) throw new InvalidOperationException($"The contact list was not imported: {string.Join(", ", summary.Refusals)}");
        }
        var tokens = services.GetRequiredService<TokenService>();
        var invites = (await db.Contacts.AsNoTracking().Select(c => new { c.Id, c.TokenGeneration }).ToListAsync())
            .Select(c => tokens.CreateAddressed(TokenPurpose.Invitation, c.Id, c.TokenGeneration)).ToList();
        Shuffle(invites);

        // Pending readers with a DOI link each, for the confirm page.
        var text = await services.GetRequiredService<ConsentTextService>().ShowToReaderAsync(newsletter, "de")
                   ?? throw new InvalidOperationException("No consent text.");
        for (var i = 0; i < 2_000; i++)
        {
            await using var signUpScope = app.Services.CreateAsyncScope();
            await signUpScope.ServiceProvider.GetRequiredService<SignUpService>().SignUpAsync(
                new SignUpRequest(newsletter, text, $"pending{i:D5}@example.test", "de", null, "127.0.0.1", Browser, "general") { AgeConfirmed = true });
        }
        var confirms = (await db.Subscribers.AsNoTracking().Where(s => s.Email.StartsWith("pending"))
                .Select(s => new { s.Id, s.ConfirmGeneration }).ToListAsync())
            .Select(s => tokens.Create(TokenPurpose.Confirm, s.Id, s.ConfirmGeneration)).ToList();
        Shuffle(confirms);
        return new Seed(invites, confirms);
    }

    private sealed record Form(string Cookie, string RequestToken, string ConsentTextId);

    /// <summary>What a reader's browser holds after opening the page: the antiforgery cookie and the form's token and text version.</summary>
    private static async Task<Form> FormAsync(string baseUrl)
    {
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(Browser);
        using var response = await client.GetAsync($"/n/{Slug}");
        var html = await response.Content.ReadAsStringAsync();
        var cookie = response.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]).Single(c => c.StartsWith("nm.af=", StringComparison.Ordinal));
        string Field(string pattern) => Regex.Match(html, pattern).Groups[1] is { Success: true } g ? g.Value
            : throw new InvalidOperationException($"The sign-up form has no match for {pattern}.");
        return new Form(cookie, Field("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\""),
            Field("name=\"Input.ConsentTextId\" value=\"(\\d+)\""));
    }

    private static string WritePaths(string folder, string name, IEnumerable<string> paths)
    {
        var file = Path.Combine(folder, name);
        File.WriteAllLines(file, paths);
        return file;
    }

    /// <summary>Common to every script: a phone browser's headers, a thread number per wrk thread, and one result line at the end.</summary>
    private const string Common = $$"""
        wrk.headers["User-Agent"] = "{{Browser}}"
        wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        wrk.headers["Accept-Language"] = "de-DE,de;q=0.9,en;q=0.8"
        wrk.headers["Accept-Encoding"] = "br, gzip"
        local threads = {}
        local counter = 0
        setup = function(thread)
          thread:set("tid", counter)
          counter = counter + 1
          table.insert(threads, thread)
        end
        done = function(summary, latency, requests)
          local ok = 0
          for _, t in ipairs(threads) do ok = ok + (t:get("ok") or 0) end
          local e = summary.errors
          io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
            latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout, ok))
        end

        """;

    private static string GetScript(string? pathsFile, string? path) => Common + (pathsFile is null
        ? $$"""
            request = function() return wrk.format("GET", "{{path}}") end
            """
        : $$"""
            local paths = {}
            for line in io.lines("{{pathsFile}}") do paths[#paths + 1] = line end
            local i = 0
            init = function(args) i = tid * math.floor(#paths / 2) end
            request = function()
              i = i + 1
              return wrk.format("GET", paths[(i % #paths) + 1])
            end
            """);

    /// <summary>Every request another address (bench-RUN-thread-n@example.test); a 200 without the form is a completed sign-up.</summary>
    private static string PostScript(Form form) => Common + $$"""
        wrk.method = "POST"
        wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
        wrk.headers["Cookie"] = "{{form.Cookie}}"
        local n = 0
        ok = 0
        request = function()
          n = n + 1
          local body = "Input.Email=bench-RUN-" .. tid .. "-" .. n .. "%40example.test&Input.Consent=true&Input.AgeConfirmed=true"
            .. "&Input.ConsentTextId={{form.ConsentTextId}}&Input.Website=&__RequestVerificationToken={{Uri.EscapeDataString(form.RequestToken)}}"
          return wrk.format("POST", "/n/{{Slug}}", nil, body)
        end
        response = function(status, headers, body)
          if status == 200 and not string.find(body, "Input.Email", 1, true) then ok = ok + 1 end
        end
        """;

    private sealed record Result(int Connections, long Requests, double Seconds, double P50Ms, double P99Ms, long Errors, long Succeeded)
    {
        public double RequestsPerSecond => Requests / Seconds;
    }

    private static async Task<Result> RunWrkAsync(string wrk, string baseUrl, int connections, int seconds, string script)
    {
        var start = new ProcessStartInfo(wrk, ["-t2", $"-c{connections}", $"-d{seconds}s", "--timeout", "5s", "-s", script, baseUrl])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"wrk gave no result:\n{output}\n{errors}");
        var f = line.Split(' ')[1..].Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        return new Result(connections, f[0], f[1] / 1e6, f[2] / 1e3, f[3] / 1e3, f[4], f[5]);
    }

    /// <summary>Each answered sign-up of the measured run must have its subscriber, ledger (SignUp, DoiQueued) and DOI outbox rows.</summary>
    private static async Task<bool> VerifySignUpsAsync(WebApplication app, long answered)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var run = db.Subscribers.Where(s => s.Email.StartsWith("bench-m-"));
        var subscribers = await run.CountAsync();
        var ledger = await run.CountAsync(s => db.ConsentEvents.Any(e => e.SubscriberId == s.Id && e.Kind == ConsentEventKind.SignUp));
        var doi = await run.CountAsync(s => db.ConsentEvents.Any(e => e.SubscriberId == s.Id && e.Kind == ConsentEventKind.DoiQueued));
        var outbox = await run.CountAsync(s => db.OutboundMessages.Any(m => m.SubscriberId == s.Id && m.Kind == MessageKind.DoubleOptIn));
        var ok = subscribers >= answered && ledger == subscribers && doi == subscribers && outbox == subscribers;
        Console.WriteLine($"sign-ups answered 'check your mail': {answered:N0}; in the database: {subscribers:N0} new subscribers, " +
                          $"{ledger:N0} with their SignUp ledger row, {doi:N0} with their DoiQueued row, {outbox:N0} with their DOI outbox row: {(ok ? "OK" : "MISSING ROWS")}");
        return ok;
    }

    private static void Verdict(string target, bool met) => Console.WriteLine($"  [{(met ? "met " : "MISS")}] {target}");

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "n/a";

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
        .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static void Shuffle(List<string> list)
    {
        var random = new Random(17);
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
