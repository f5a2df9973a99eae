using NewsletterMigrator.Bench;

// Usage: dotnet run -c Release --project bench/NewsletterMigrator.Bench [-- invitation-queue [contacts]]
var contacts = args.Length > 1 && int.TryParse(args[1], out var n) ? n : 100_000;
await InvitationQueueBench.RunAsync(contacts);
return 0;
