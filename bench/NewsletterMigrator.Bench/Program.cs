using NewsletterMigrator.Bench;

// One verb per benchmark, each in its own file. Run in Release:
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- send 100000
return args.FirstOrDefault() switch
{
    "send" => await SendBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        Usage: NewsletterMigrator.Bench <verb> [arguments]
          send [recipients=100000] [connections=4]   a campaign through the outbox worker vs. raw MailKit
        """);
    return 2;
}
