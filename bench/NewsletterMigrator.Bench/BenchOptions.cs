namespace NewsletterMigrator.Bench;

/// <summary>The options the database-bound verbs (import, send) take after their positional arguments.</summary>
internal static class BenchOptions
{
    /// <summary>
    /// Splits a verb's arguments into its positional ones and the options <c>--postgres "&lt;connection string&gt;"</c> and
    /// <c>--instances N</c>; null when an option lacks its value.
    /// </summary>
    public static (string[] Positional, string? Postgres, int Instances)? Parse(string[] args)
    {
        var positional = new List<string>();
        string? postgres = null;
        var instances = 1;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--postgres" when i + 1 < args.Length && !string.IsNullOrWhiteSpace(args[i + 1]):
                    postgres = args[++i];
                    break;
                case "--instances" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0:
                    instances = n;
                    i++;
                    break;
                case "--postgres" or "--instances":
                    Console.Error.WriteLine($"{args[i]} needs a value (--postgres \"Host=…;Username=…\", --instances 2).");
                    return null;
                default:
                    positional.Add(args[i]);
                    break;
            }
        }
        return (positional.ToArray(), postgres, instances);
    }
}
