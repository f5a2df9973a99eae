using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Bench;

/// <summary>
/// Issue 15: what checking the staff cookie against the account on every request costs (security stamp validation
/// interval zero, <see cref="StaffIdentitySetup"/>) against Identity's default of every 30 minutes. Two copies of the
/// real app in this process, each on its own SQLite file and loopback port, differ only in that interval; one signed-in
/// admin requests the same admin page from each, in alternating blocks, so a busy moment of the machine touches both
/// alike. Reports requests per second (one client, one request at a time), median and 90th percentile, and the bytes
/// allocated per request by the whole process (server and client; the client's share is the same on both sides).
/// </summary>
public static partial class StaffRequestBench
{
    private const string Page = "/admin/staff";
    private const string Email = "admin@example.test";
    private const string Password = "long enough password";

    public static async Task RunAsync(int requests, int rounds)
    {
        var variants = new List<Variant>();
        try
        {
            variants.Add(await Variant.StartAsync("every request (ValidationInterval 0)", TimeSpan.Zero));
            variants.Add(await Variant.StartAsync("every 30 min (Identity default)", TimeSpan.FromMinutes(30)));
            Console.WriteLine($"staff-request: GET {Page} as a signed-in admin, {requests:N0} requests per variant in {rounds} alternating blocks, " +
                              $"{Environment.ProcessorCount} CPU(s), GC {(System.Runtime.GCSettings.IsServerGC ? "Server" : "Workstation")}");
            foreach (var v in variants) await v.RunBlockAsync(300, measure: false); // JIT, connection, EF Core's compiled queries
            var block = Math.Max(1, requests / rounds);
            for (var round = 0; round < rounds; round++)
            {
                // Alternating which goes first, so neither always follows the other's garbage collection.
                foreach (var v in round % 2 == 0 ? variants : Enumerable.Reverse(variants)) await v.RunBlockAsync(block, measure: true);
            }
            foreach (var v in variants)
                Console.WriteLine($"  {v.Name,-38} {v.RequestsPerSecond,7:N0} req/s   median {Percentiles.Of(v.Times, 0.5),6:N2} ms   " +
                                  $"p90 {Percentiles.Of(v.Times, 0.9),6:N2} ms   {v.BytesPerRequest / 1024.0,6:N1} KB allocated per request");
            var (every, cached) = (variants[0], variants[1]);
            Console.WriteLine($"  ratio (every request / every 30 min): time per request {cached.RequestsPerSecond / every.RequestsPerSecond:N2}x, " +
                              $"median {Percentiles.Of(every.Times, 0.5) / Percentiles.Of(cached.Times, 0.5):N2}x, allocations {every.BytesPerRequest / cached.BytesPerRequest:N2}x");
        }
        finally
        {
            foreach (var v in variants) await v.DisposeAsync();
        }
    }

    private sealed class Variant : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly HttpClient _client;
        private readonly string _dataDirectory;
        private long _measuredTicks;
        private long _measuredBytes;

        private Variant(string name, WebApplication app, HttpClient client, string dataDirectory)
        {
            Name = name;
            _app = app;
            _client = client;
            _dataDirectory = dataDirectory;
        }

        public string Name { get; }
        public List<double> Times { get; } = [];
        public double RequestsPerSecond => Times.Count / TimeSpan.FromTicks(_measuredTicks).TotalSeconds;
        public double BytesPerRequest => (double)_measuredBytes / Times.Count;

        public static async Task<Variant> StartAsync(string name, TimeSpan interval)
        {
            var dataDirectory = Directory.CreateTempSubdirectory("nm-bench-staff-").FullName;
            var port = FreePort();
            // The app's assembly as the application: its Razor pages are found there, not in the bench's.
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions
                { EnvironmentName = "Production", ApplicationName = typeof(StaffDirectory).Assembly.GetName().Name, Args = [] });
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["App:PublicBaseUrl"] = $"http://127.0.0.1:{port}",
                ["App:DataDirectory"] = dataDirectory,
                ["App:MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["Database:ConnectionString"] = $"Data Source={Path.Combine(dataDirectory, "bench.db")}",
                ["Smtp:PickupDirectory"] = Path.Combine(dataDirectory, "pickup"),
            });
            builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            builder.AddValidatedOptions();
            builder.AddStorage();
            builder.AddStaffIdentity();
            builder.AddNewsletterFeatures();
            builder.AddWebFrontEnd();
            // The one difference between the two copies.
            builder.Services.PostConfigure<SecurityStampValidatorOptions>(o => o.ValidationInterval = interval);
            var app = builder.Build();
            await app.MigrateDatabaseAsync();
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var created = await scope.ServiceProvider.GetRequiredService<StaffAccounts>().CreateAsync(Email, Password, Roles.Admin, "bench");
                if (!created.Succeeded) throw new InvalidOperationException(string.Join(" ", created.Errors.Select(e => e.Description)));
                // Password only, as an installation whose admins chose so; two-factor sign-in is another step, not this cost.
                await scope.ServiceProvider.GetRequiredService<AppDbContext>().StaffSecurityPolicies
                    .ExecuteUpdateAsync(u => u.SetProperty(p => p.RequireTwoFactor, TwoFactorRequirement.Nobody));
            }
            app.UseWebFrontEnd();
            await app.StartAsync();

            var client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
                { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var form = await client.GetStringAsync("/account/login");
            using var signIn = await client.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["Email"] = Email, ["Password"] = Password,
                ["__RequestVerificationToken"] = WebUtility.HtmlDecode(TokenPattern().Match(form).Groups[1].Value),
            }));
            if (signIn.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"Sign-in answered {(int)signIn.StatusCode}.");
            return new Variant(name, app, client, dataDirectory);
        }

        public async Task RunBlockAsync(int count, bool measure)
        {
            var bytes = GC.GetTotalAllocatedBytes(precise: true);
            var started = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                var one = Stopwatch.GetTimestamp();
                using var response = await _client.GetAsync(Page, HttpCompletionOption.ResponseContentRead);
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{Name}: GET {Page} answered {(int)response.StatusCode}.");
                if (measure) Times.Add(Stopwatch.GetElapsedTime(one).TotalMilliseconds);
            }
            if (!measure) return;
            _measuredTicks += Stopwatch.GetElapsedTime(started).Ticks;
            _measuredBytes += GC.GetTotalAllocatedBytes(precise: true) - bytes;
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
