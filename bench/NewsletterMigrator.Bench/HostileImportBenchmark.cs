using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Bench;

/// <summary>
/// The hostile files of issue 13 (point 2), each through the preview (two views, as an editor who reloads)
/// and through the import (the CLI's path). Every file runs in a fresh child process, so the peak working
/// set is that file's and one runaway file cannot spoil the next figure.
/// </summary>
internal static class HostileImportBenchmark
{
    private sealed record Scenario(string Name, string FileName, Action<string> Write);

    private static readonly Scenario[] Scenarios =
    [
        new("xlsx: 1 GiB shared string from ~1 MB", "bombe.xlsx", p => File.WriteAllBytes(p, HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB))),
        new("xlsx: 1 GiB of short shared strings", "viele.xlsx", p => File.WriteAllBytes(p, HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB, manySmall: true))),
        // Under the compression ratio, but its 7.6 million strings outgrow the shared-string table's budget (read before it had one).
        new("xlsx: short shared strings, under ratio", "knapp.xlsx", WriteXlsxUnderRatio),
        // Within the ratio, but more shared strings than SharedStringTable keeps (1 GiB from a 10.8 MB upload).
        new("xlsx: 1 GiB short shared strings, under ratio", "viele-knapp.xlsx",
            p => File.WriteAllBytes(p, HostileFiles.XlsxWithSharedStrings(HostileFiles.GiB, manySmall: true, padding: 14_500_000))),
        // The most shared strings the table keeps: 145 MB of XML, 6 million strings, just under its byte budget.
        new("xlsx: shared strings under their budget", "knapp-tabelle.xlsx",
            p => File.WriteAllBytes(p, HostileFiles.XlsxWithSharedStrings(145L << 20, manySmall: true, padding: 2_050_000))),
        // Eleven rows of 1,000 cells of 32,767 characters (361 MB of sheet in 4.5 MB, ratio 80): each row 32.7 M characters.
        new("xlsx: 11 rows of 1,000 x 32,767 chars", "breit.xlsx",
            p => File.WriteAllBytes(p, HostileFiles.XlsxWithWideRows(11, 1_000, 32_767, padding: 6_000_000))),
        // Rows just under the line limit: 1,000 cells of 1,000 characters.
        new("xlsx: 11 rows of 1,000 x 1,000 chars", "breit-knapp.xlsx",
            p => File.WriteAllBytes(p, HostileFiles.XlsxWithWideRows(11, 1_000, 1_000, padding: 200_000))),
        new("zip: one number repeated, 1 GiB", "nummern.zip", p => File.WriteAllBytes(p, HostileFiles.ZipOfRepeatedNumber(HostileFiles.GiB))),
        new("zip: one number repeated, 150 MB", "klein.zip", p => File.WriteAllBytes(p, HostileFiles.ZipOfRepeatedNumber(150L << 20))),
        // Not hostile: a real list of 1,000,000 rows packed as a ZIP (about 4:1), unpacked once for all views and the import.
        new("zip: real list, 1,000,000 rows", "liste.zip", WriteZippedList),
        new("csv: 50 MB single line", "zeile.csv", p => HostileFiles.WriteSingleLine(p, 50L << 20)),
        new("csv: 26 MB single line", "zeile26.csv", p => HostileFiles.WriteSingleLine(p, 26L << 20)),
        new("txt: 50 MB single line", "zeile.txt", p => HostileFiles.WriteSingleLine(p, 50L << 20)),
        new("vcf: 50 MB single line", "karte.vcf", p => HostileFiles.WriteRepeated(p, "BEGIN:VCARD\nFN:", "Anna ", 50L << 20)),
        new("csv: 1,000,000 columns", "spalten.csv", p => File.WriteAllBytes(p, HostileFiles.ManyColumns(1_000_000))),
    ];

    /// <summary>190 MB of short shared strings in a file padded (with random text) to about 2.1 MB: 95 times its size, just under the ratio.</summary>
    private static void WriteXlsxUnderRatio(string path) =>
        File.WriteAllBytes(path, HostileFiles.XlsxWithSharedStrings(190L << 20, manySmall: true, padding: 2_650_000));

    private static void WriteZippedList(string path)
    {
        var list = path + ".csv";
        ListGenerator.Write(list, 1_000_000);
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
        using (var entry = zip.CreateEntry("liste.csv").Open())
        using (var source = File.OpenRead(list))
            source.CopyTo(entry);
        File.Delete(list);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 3) return await RunOneAsync(args[0], args[1], args[2]);
        var folder = Directory.CreateTempSubdirectory("nm-hostile-").FullName;
        try
        {
            Console.WriteLine($"{"file",-38} {"on disk",9} {"step",-8} {"CPU s",7} {"CPU s/MB",9} {"managed MB",11} {"peak WS MB",11} {"start WS MB",12}  outcome");
            foreach (var scenario in Scenarios.Where(s => args.Length == 0 || s.Name.Contains(args[0], StringComparison.OrdinalIgnoreCase)))
            {
                var path = Path.Combine(folder, scenario.FileName);
                scenario.Write(path);
                var mb = new FileInfo(path).Length / 1048576.0;
                foreach (var step in new[] { "preview", "import" })
                {
                    var line = await ChildAsync(step, path, folder);
                    var parts = line.Split('|');
                    if (parts.Length < 5)
                    {
                        Console.WriteLine($"{scenario.Name,-38} {mb,7:0.00}MB {step,-8} {line}");
                        continue;
                    }
                    var cpu = double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
                    Console.WriteLine($"{scenario.Name,-38} {mb,7:0.00}MB {step,-8} {cpu,7:0.00} {cpu / Math.Max(mb, 1.0),9:0.00} {parts[1],11} {parts[2],11} {parts[3],12}  {parts[4]}");
                }
                File.Delete(path);
            }
        }
        finally
        {
            try { Directory.Delete(folder, true); } catch (IOException) { }
        }
        return 0;
    }

    private static async Task<string> ChildAsync(string step, string path, string folder)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(HostileImportBenchmark).Assembly.Location);
        foreach (var a in new[] { "hostile", step, path, folder }) start.ArgumentList.Add(a);
        // A runaway file must not take the shared machine with it: the child's managed heap is capped at 1.5 GB.
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x60000000";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var last = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        return process.ExitCode == 0 ? last : $"exit {process.ExitCode}: {FirstLine(await error)}";
    }

    private static string FirstLine(string text) => text.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";

    /// <summary>In the child: one step on one file; prints CPU s | peak managed MB | peak working set MB | working set before MB | outcome.</summary>
    private static async Task<int> RunOneAsync(string step, string path, string folder)
    {
        var (app, newsletter) = await ImportBenchmark.CreateAppAsync(folder, $"{step}-{Environment.ProcessId}");
        await using var _ = app;
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var spool = services.GetRequiredService<ImportSpool>();
        Guid upload;
        await using (var file = File.OpenRead(path))
            upload = await spool.SaveAsync(file, newsletter.Id, Path.GetFileName(path), "bench", new ImportLegalBasis(LegalBases.ExistingConsent, "bench"), default);

        GC.Collect();
        var before = Process.GetCurrentProcess().WorkingSet64;
        using var sampler = new Sampler();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        string outcome;
        try
        {
            if (step == "preview")
            {
                var previews = services.GetRequiredService<UploadPreviews>();
                var first = Preview(spool, previews, upload);
                var cpuFirst = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                Preview(spool, previews, upload);
                var cpuSecond = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds - cpuFirst;
                outcome = $"{first}; 2nd view {cpuSecond:0.000} s CPU";
            }
            else
            {
                await using var file = File.OpenRead(path);
                var summary = await services.GetRequiredService<ContactImporter>().ImportAsync(newsletter.Id, file, path, "bench",
                    new ImportLegalBasis(LegalBases.ExistingConsent, "bench"));
                outcome = $"imported {summary.Imported} of {summary.Rows} rows";
            }
        }
        catch (ImportFormatException ex)
        {
            outcome = $"refused: {ex.ReasonKey}";
        }
        catch (OutOfMemoryException)
        {
            outcome = "OutOfMemoryException";
        }
        var seconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var (managed, workingSet) = sampler.Stop();
        var peak = Math.Max(workingSet, Process.GetCurrentProcess().PeakWorkingSet64);
        Console.WriteLine(FormattableString.Invariant($"{seconds:0.000}|{managed / 1048576.0:0}|{peak / 1048576.0:0}|{before / 1048576.0:0}|{outcome}"));
        return 0;
    }

    /// <summary>What the preview page does on one view.</summary>
    private static string Preview(ImportSpool spool, UploadPreviews previews, Guid upload)
    {
        var shown = previews.Show(upload, spool.Find(upload)!, null);
        if (shown.Preview is not { } preview) return $"refused: {shown.ErrorKey}";
        return $"preview of {preview.Rows.Count} rows, {preview.Headers.Count} columns, {preview.Rows.Sum(r => r.Fields.Sum(f => (long)f.Length)):N0} chars";
    }

    /// <summary>Peak managed heap and working set, sampled every 10 ms.</summary>
    private sealed class Sampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private long _managed, _workingSet;

        public Sampler()
        {
            _thread = new Thread(() =>
            {
                using var self = Process.GetCurrentProcess();
                while (!_stop.IsCancellationRequested)
                {
                    _managed = Math.Max(_managed, GC.GetTotalMemory(false));
                    self.Refresh();
                    _workingSet = Math.Max(_workingSet, self.WorkingSet64);
                    Thread.Sleep(10);
                }
            }) { IsBackground = true };
            _thread.Start();
        }

        public (long Managed, long WorkingSet) Stop()
        {
            _stop.Cancel();
            _thread.Join();
            return (_managed, _workingSet);
        }

        public void Dispose() => _stop.Dispose();
    }
}
