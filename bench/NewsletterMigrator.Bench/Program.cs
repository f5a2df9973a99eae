using NewsletterMigrator.Bench;

// One verb per benchmark, each in its own file. Run in Release:
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- import 1000000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- import-stages 200000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- import-sqlite 1000000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- send 100000
// On PostgreSQL as well (import: SQLite and PostgreSQL in one run; send: the outbox on PostgreSQL, two app instances):
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- import 1000000 --postgres "Host=127.0.0.1;Port=55432;Username=nm;Database=postgres"
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- send 100000 4 --postgres "Host=127.0.0.1;Port=55432;Username=nm;Database=postgres" --instances 2
// Each run creates its own database (nm_bench_<random>) through the maintenance database `postgres` and drops it afterwards.
// A throwaway server for this (as root; fsync=off and synchronous_commit=off because its data is thrown away: the figures
// are then the app's and the CPU's, not the disk's. A production figure needs fsync=on, synchronous_commit=on, the
// server on its own host and disk, and the network between app and server):
//   mkdir -p /tmp/benchpg && chown postgres /tmp/benchpg
//   runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D /tmp/benchpg/data -U nm --auth=trust
//   runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/benchpg/data -l /tmp/benchpg/log start \
//     -o "-p 55432 -k /tmp/benchpg -c fsync=off -c synchronous_commit=off -c listen_addresses=127.0.0.1"
//   (afterwards: runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /tmp/benchpg/data stop; rm -r /tmp/benchpg)
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- invitation-queue 100000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- sign-in http://127.0.0.1:5000 admin@example.test 'long enough password'
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- sign-up 300 50
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- hostile
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- whatsapp-schedule 100000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- staff-request 20000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- bounces 10000
//   dotnet run -c Release --project bench/NewsletterMigrator.Bench -- pages 10
// As the app does first thing in its Program.cs, so the memory figures are the app's.
NewsletterMigrator.Common.NativeHeap.LimitMallocArenas();

return args.FirstOrDefault() switch
{
    "import" => await ImportAsync(args),
    "send" => await SendBenchmark.RunAsync(args[1..]),
    "invitation-queue" => await InvitationQueueAsync(args),
    "import-stages" => ImportStages(args),
    "import-sqlite" => await ImportSqliteAsync(args),
    "sign-in" when args.Length >= 4 => await SignInAsync(args),
    "sign-up" => await SignUpBenchmark.RunAsync(args[1..]),
    "hostile" => await HostileImportBenchmark.RunAsync(args[1..]),
    "whatsapp-schedule" => await WhatsAppScheduleAsync(args),
    "staff-request" => await StaffRequestAsync(args),
    "bounces" => await BounceBenchmark.RunAsync(args[1..]),
    "pages" => await PagesBenchmark.RunAsync(args[1..]),
    _ => Usage(),
};

static async Task<int> ImportAsync(string[] args)
{
    if (BenchOptions.Parse(args[1..]) is not ({ } positional, var postgres, 1)) return Usage();
    await ImportBenchmark.RunAsync(positional.Length > 0 && int.TryParse(positional[0], out var n) && n > 0 ? n : 1_000_000, postgres);
    return 0;
}

static async Task<int> InvitationQueueAsync(string[] args)
{
    await InvitationQueueBench.RunAsync(args.Length > 1 && int.TryParse(args[1], out var n) ? n : 100_000);
    return 0;
}

static async Task<int> ImportSqliteAsync(string[] args)
{
    await ImportSqliteBenchmark.RunAsync(args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 1_000_000);
    return 0;
}

static async Task<int> SignInAsync(string[] args)
{
    await SignInTimingBench.RunAsync(new Uri(args[1]), args[2], args[3], args.Length > 4 && int.TryParse(args[4], out var n) && n > 0 ? n : 40);
    return 0;
}

static async Task<int> WhatsAppScheduleAsync(string[] args)
{
    await WhatsAppScheduleBench.RunAsync(args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 100_000,
        args.Length > 2 && int.TryParse(args[2], out var r) && r > 0 ? r : 15);
    return 0;
}

static async Task<int> StaffRequestAsync(string[] args)
{
    await StaffRequestBench.RunAsync(args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 20_000,
        args.Length > 2 && int.TryParse(args[2], out var r) && r > 0 ? r : 20);
    return 0;
}

static int ImportStages(string[] args)
{
    ImportStagesBenchmark.Run(args.Length > 1 && int.TryParse(args[1], out var n) && n > 0 ? n : 200_000);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("""
        Usage: NewsletterMigrator.Bench <verb> [arguments]
          import [rows=1000000] [--postgres "<Npgsql connection string>"]
                                                     the importer vs. a raw parse-and-insert pipeline; with --postgres also into
                                                     a new PostgreSQL database on that server (targets: >= 50,000 rows/s, >= SQLite)
          import-stages [rows=200000]                the importer's CPU per row before SQLite, stage by stage
          import-sqlite [rows=1000000]               the importer's SQLite writes alone, with and without each index
          send [recipients=100000] [connections=4] [raw=min(recipients, 100000)] [--postgres "<Npgsql connection string>" [--instances 2]]
                                                     a campaign through the outbox worker vs. raw MailKit; with --postgres on a new
                                                     PostgreSQL database, --instances app instances sharing the connections
          invitation-queue [contacts=100000]         the click-to-chat queue's step time at the start, middle and end
          sign-in <url> <staff email> <password> [rounds=40]
                                                     a failed staff sign-in's time: real account, unknown address, locked
          sign-up [rounds=300] [bursts=50]           one sign-up's work for a new, pending and confirmed address; bursts of 8 for one address
          hostile [name filter]                      CPU and peak memory of each hostile import file (zip bombs, endless lines, columns)
          whatsapp-schedule [queued=100000] [rounds=15]
                                                     the WhatsApp schedule at a 10,000 limit: the pure simulation and the page's forecast on SQLite, each vs. a raw baseline
          staff-request [requests=20000] [blocks=20]  a signed-in admin's page request with the staff cookie checked on every request vs. every 30 min
          bounces [reports=10000]                    the bounce mailbox reader on a real Dovecot (apt-get install dovecot-imapd) vs. raw IMAP fetch and move
          pages [seconds=10] [contacts=50000]        the reader's pages over loopback with wrk (apt-get install wrk) beside a minimal page: consent GETs, confirm GET, sign-up POST
        """);
    return 2;
}
