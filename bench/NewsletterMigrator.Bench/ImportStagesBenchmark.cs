using System.Diagnostics;
using System.Security.Cryptography;
using NewsletterMigrator.Common;
using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The CPU an import spends per row before SQLite, stage by stage on one thread: where the importer's
/// budget goes, and so how fast it can be on this machine whatever the database does.
/// </summary>
internal static class ImportStagesBenchmark
{
    public static void Run(int rows)
    {
        var path = Path.Combine(Path.GetTempPath(), $"nm-stages-{Environment.ProcessId}.csv");
        try
        {
            ListGenerator.Write(path, rows);
            var keys = new KeyRing(RandomNumberGenerator.GetBytes(32));
            using var phones = new PhoneProtector(keys).CreateSession();
            // The first pass warms up (JIT, libphonenumber's metadata); the second is printed.
            for (var pass = 0; pass < 2; pass++)
            {
                var stages = new List<(string Name, double Seconds)>();
                List<ContactRow> list = [];
                List<string> numbers = [];
                stages.Add(("read CSV", Cpu(() => { using var file = File.OpenRead(path); list = ListReader.Read(file, "list.csv").ToList(); })));
                stages.Add(("normalise (libphonenumber)", Cpu(() => numbers = list.Select(r => PhoneChoice.Choose(r, "DE")).Where(r => r.IsValid).Select(r => r.E164!).ToList())));
                stages.Add(("phone HMAC", Cpu(() => numbers.ForEach(n => phones.Hmac(n)))));
                stages.Add(("phone AES-GCM", Cpu(() => numbers.ForEach(n => phones.Encrypt(n)))));
                if (pass == 0) continue;
                foreach (var (name, seconds) in stages) Console.WriteLine($"{name,-28} {seconds * 1e6 / rows,6:0.00} µs CPU per row");
                var total = stages.Sum(s => s.Seconds) * 1e6 / rows;
                Console.WriteLine($"{"all before SQLite",-28} {total,6:0.00} µs CPU per row: on {Environment.ProcessorCount} cores at most {Environment.ProcessorCount * 1e6 / total:N0} rows/s with no database at all");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double Cpu(Action action)
    {
        var before = Process.GetCurrentProcess().TotalProcessorTime;
        action();
        return (Process.GetCurrentProcess().TotalProcessorTime - before).TotalSeconds;
    }
}
