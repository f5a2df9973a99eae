using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Bench;

/// <summary>
/// Issue 13, point 8, against a running app over HTTP: how long a failed staff sign-in takes for a real
/// account (wrong password), an unknown address, and a locked account. Only the POST is timed. Start the
/// app with a staff account and a per-IP limit high enough for the run, e.g.
///   NM_ADMIN_PASSWORD='long enough password' dotnet run -c Release --project src/NewsletterMigrator -- create-admin admin@example.test
///   SignIn__AttemptsPerIp=10000 dotnet run -c Release --project src/NewsletterMigrator
/// The real account's failure count is reset by a correct sign-in after each round, so it stays unlocked
/// until the locked phase; that phase locks it (for SignIn:LockoutDuration).
/// </summary>
public static partial class SignInTimingBench
{
    public static async Task RunAsync(Uri baseUrl, string staff, string password, int rounds)
    {
        var real = new List<double>();
        var unknown = new List<double>();
        for (var round = -3; round < rounds; round++) // three rounds warm up the JIT and the connection pool
        {
            var u = await PostAsync(baseUrl, $"nobody{round + 10}@example.test", "wrong password " + round);
            var r = await PostAsync(baseUrl, staff, "wrong password " + round);
            if (await PostAsync(baseUrl, staff, password, expectRedirect: true) < 0) throw new InvalidOperationException("The correct password did not sign in.");
            if (round < 0) continue;
            unknown.Add(u);
            real.Add(r);
        }
        // Locks the account on any lockout threshold up to 100 (SignIn:LockoutAfterFailures).
        for (var i = 0; i < 100; i++) await PostAsync(baseUrl, staff, "locking " + i);
        var locked = new List<double>();
        for (var round = 0; round < rounds; round++) locked.Add(await PostAsync(baseUrl, staff, "wrong password " + round));

        Console.WriteLine($"Failed staff sign-in, POST time over {rounds} rounds (median / 10th–90th percentile):");
        Report("real account, wrong password", real);
        Report("unknown address", unknown);
        Report("locked account", locked);
    }

    private static void Report(string label, List<double> times)
    {
        times.Sort();
        double At(double q) => times[(int)Math.Round(q * (times.Count - 1))];
        Console.WriteLine($"  {label,-30} {At(0.5),7:F1} ms   ({At(0.1):F1}–{At(0.9):F1} ms)");
    }

    /// <summary>One browser's sign-in: open the form (untimed), post it (timed). −1 when the answer was not as expected.</summary>
    private static async Task<double> PostAsync(Uri baseUrl, string email, string password, bool expectRedirect = false)
    {
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = baseUrl };
        var form = await client.GetStringAsync("/account/login");
        var token = WebUtility.HtmlDecode(TokenPattern().Match(form).Groups[1].Value);
        var content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email, ["Password"] = password, ["__RequestVerificationToken"] = token,
        });
        var watch = Stopwatch.StartNew();
        using var response = await client.PostAsync("/account/login", content);
        await response.Content.ReadAsStringAsync();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        var ok = expectRedirect ? response.StatusCode == HttpStatusCode.Redirect : response.StatusCode == HttpStatusCode.OK;
        if (!ok && !expectRedirect) throw new InvalidOperationException($"Sign-in answered {(int)response.StatusCode}; is SignIn:AttemptsPerIp high enough?");
        return ok ? elapsed : -1;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
