using NewsletterMigrator.Bench;

// dotnet run -c Release --project bench/NewsletterMigrator.Bench -- import [rows]
if (args.Length == 0 || args[0] != "import")
{
    Console.Error.WriteLine("Usage: import [rows]   (default 1000000)");
    return 1;
}
var rows = args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 1_000_000;
await ImportBenchmark.RunAsync(rows);
return 0;
