using System.Data.Common;
using System.Net;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Subscribers;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Data;

/// <summary>
/// Issue 18, point 5: <c>copy-database --to</c> moves a SQLite installation to PostgreSQL. The verb runs as its own process,
/// as the operator runs it with the app stopped; the copy is then opened by the app on PostgreSQL. The row is the target
/// provider: PostgreSQL only, skipped where it is missing (and failing in CI, REQUIRE_POSTGRES=1).
/// </summary>
public sealed class DatabaseCopyTests
{
    private const string Admin = "chefin@example.test";
    private const string Password = "long enough password";

    [ProviderTheory, InlineData(DatabaseProvider.Postgres)]
    public async Task A_copied_installation_keeps_staff_sign_in_readers_ledger_outbox_audit_logo_and_the_cookies_and_forms_made_before(DatabaseProvider target)
    {
        await using var source = new AppFactory(provider: DatabaseProvider.Sqlite);
        var newsletter = await source.NewsletterAsync();
        await source.StaffAsync(Admin, Password, Roles.Admin);
        var logo = TestPngs.Logo();
        await using (var scope = source.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<NewsletterLogos>().SetAsync(newsletter.Id, new MemoryStream(logo), logo.Length, Admin);
        await source.InvitationsAsync(newsletter, "0160 1111111", "0171 2222222");
        await ReadersInEveryStateAsync(source, newsletter);
        // An import still running: its contact is hidden by the query filter, and must travel all the same.
        await source.WithDbAsync(async db =>
        {
            var batch = new ImportBatch { NewsletterId = newsletter.Id, FileName = "laufend.csv", CreatedBy = "test", Status = ImportStatus.Running, CreatedAtUtc = DateTime.UtcNow };
            db.ImportBatches.Add(batch);
            await db.SaveChangesAsync();
            db.Contacts.Add(new Contact
            {
                NewsletterId = newsletter.Id, ImportBatchId = batch.Id, PhoneHmac = [1, 2, 3], CreatedAtUtc = DateTime.UtcNow,
            });
            return await db.SaveChangesAsync();
        });

        // Before the move: a signed-in admin and a reader with an open sign-up form (its antiforgery token and cookie).
        var staffCookies = new CookieContainer();
        Assert.Equal(HttpStatusCode.Redirect, (await Browser(source, staffCookies).SignInAsync(Admin, Password)).StatusCode);
        var readerCookies = new CookieContainer();
        var openForm = await Browser(source, readerCookies).GetStringAsync("/n/eilmeldungen");
        var sourceStatuses = await source.WithDbAsync(db => db.Subscribers.AsNoTracking().ToDictionaryAsync(s => s.EmailKey, s => s.Status));
        await source.StopHostAsync();
        Dictionary<string, long> sourceCounts;
        await using (var db = TestDatabases.Open(source)) sourceCounts = await CountsAsync(db);
        Assert.All(["AspNetUsers", "DataProtectionKeys", "ConsentEvents", "OutboundMessages", "AuditEntries", "NewsletterLogos", "Contacts", "KeyChecks"],
            table => Assert.True(sourceCounts[table] > 0, table));

        var postgres = await TestPostgres.SharedAsync();
        var copyDatabase = await postgres.CreateDatabaseAsync();
        try
        {
            var run = await RunAsync(source, "copy-database", "--to", copyDatabase);
            Assert.True(run.ExitCode == 0, run.Error + run.Output);
            Assert.Contains("every count matches", run.Output);
            Assert.Matches(@"OutboundMessages\s+\d+\s+\d+", run.Output);
            Assert.DoesNotContain("MISMATCH", run.Output);
            // Every table, counted in the copy before any app touched it (the app removes an interrupted import at start),
            // the running import's contact included: the copy reads tables, not EF queries with their filters.
            Assert.Equal(3, sourceCounts["Contacts"]);
            await using (var copied = DatabaseCopy.Target(copyDatabase)) Assert.Equal(sourceCounts, await CountsAsync(copied));

            // The app on PostgreSQL, in a data folder of its own, with the installation's master key.
            await using var moved = new AppFactory(provider: target, settings: new() { ["Database:ConnectionString"] = copyDatabase, ["App:MasterKey"] = source.MasterKey });
            Assert.Equal(sourceStatuses, await moved.WithDbAsync(db => db.Subscribers.AsNoTracking().ToDictionaryAsync(s => s.EmailKey, s => s.Status)));
            var phones = moved.Service<PhoneProtector>();
            Assert.Contains("+491601111111", await moved.WithDbAsync(async db =>
                (await db.Contacts.Where(c => c.PhoneEncrypted != null).Select(c => c.PhoneEncrypted!).ToListAsync()).Select(phones.Decrypt).ToList()));

            // The admin's cookie from before still opens the admin area, and the password still signs in.
            Assert.Equal(HttpStatusCode.OK, (await Browser(moved, staffCookies).GetAsync("/admin")).StatusCode);
            Assert.Equal(HttpStatusCode.Redirect, (await Browser(moved, new CookieContainer()).SignInAsync(Admin, Password)).StatusCode);

            // The form opened before the move is accepted, and its new ledger and outbox rows take ids after the copied
            // ones (the sequences were moved on; left at 1 the insert would collide with a copied row).
            var signUp = await Browser(moved, readerCookies).PostFormAsync("/n/eilmeldungen", openForm, TestData.SignUpForm(openForm, "neu@example.test"));
            Assert.Equal(HttpStatusCode.OK, signUp.StatusCode);
            Assert.Contains("Postfach", await signUp.Content.ReadAsStringAsync());
            Assert.True(await moved.WithDbAsync(db => db.ConsentEvents.LongCountAsync()) > sourceCounts["ConsentEvents"]);
            Assert.True(await moved.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.ToAddress == "neu@example.test" && m.Kind == MessageKind.DoubleOptIn)));

            // The logo is served from the copy.
            var stored = await moved.WithDbAsync(db => db.Newsletters.AsNoTracking().SingleAsync(n => n.Id == newsletter.Id));
            Assert.NotNull(stored.LogoSha256);
            var served = await moved.ReaderClient().GetAsync($"/n/eilmeldungen/logo/{stored.LogoSha256}.png");
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal(await moved.WithDbAsync(db => db.NewsletterLogos.Select(l => l.Content).SingleAsync()), await served.Content.ReadAsByteArrayAsync());
        }
        finally
        {
            await postgres.DropDatabaseAsync(copyDatabase);
        }
    }

    [ProviderTheory, InlineData(DatabaseProvider.Postgres)]
    public async Task A_target_with_an_installation_and_a_source_that_is_not_SQLite_are_refused_and_nothing_changes(DatabaseProvider target)
    {
        await using var installed = new AppFactory(provider: target);
        await installed.NewsletterAsync();
        await installed.StopHostAsync();
        await using var source = new AppFactory(provider: DatabaseProvider.Sqlite);
        await source.NewsletterAsync("andere");
        await source.StopHostAsync();
        Dictionary<string, long> before;
        await using (var db = TestDatabases.Open(installed)) before = await CountsAsync(db, withHistory: true);

        var refused = await RunAsync(source, "copy-database", "--to", installed.ConnectionString);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is not empty: it holds", refused.Error);
        Assert.Contains("Newsletters (1 row)", refused.Error);
        Assert.Contains("nothing was copied", refused.Error);
        await using (var db = TestDatabases.Open(installed)) Assert.Equal(before, await CountsAsync(db, withHistory: true));

        // Run with the PostgreSQL installation's own settings, the verb has no SQLite installation to copy.
        var postgres = await TestPostgres.SharedAsync();
        var empty = await postgres.CreateDatabaseAsync();
        try
        {
            var wrongSource = await RunAsync(installed, "copy-database", "--to", empty);
            Assert.Equal(1, wrongSource.ExitCode);
            Assert.Contains("copy-database copies a SQLite installation", wrongSource.Error);
            await using var db = DatabaseCopy.Target(empty);
            Assert.Empty(await db.Database.SqlQueryRaw<string>("SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public'").ToListAsync());
        }
        finally
        {
            await postgres.DropDatabaseAsync(empty);
        }
    }

    /// <summary>A browser with its own cookie jar on <paramref name="app"/>: the same jar on another app carries its cookies over.</summary>
    private static HttpClient Browser(AppFactory app, CookieContainer cookies) =>
        app.CreateDefaultClient(new Uri("http://localhost"), new CookieContainerHandler(cookies));

    /// <summary>Two confirmed readers, one pending, one unsubscribed and one bounced (a 5.1.1 at RCPT TO), made the way the app makes them.</summary>
    private static async Task ReadersInEveryStateAsync(AppFactory app, Newsletter newsletter)
    {
        await app.ConfirmedReadersAsync(newsletter, "bestaetigt1@example.test", "bestaetigt2@example.test", "abgemeldet@example.test", "unzustellbar@example.test");
        app.Smtp.RefuseAtRcpt["unzustellbar@example.test"] = TestSmtpServer.Reply(550, "5.1.1 User unknown");
        await app.WaitForCampaignAsync(await app.CampaignAsync(newsletter, "Vorab"), CampaignStatus.Sent);
        app.Smtp.RefuseAtRcpt.Clear();
        await app.ReaderClient().SignUpAsync("unbestaetigt@example.test");
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var reader = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Subscribers.SingleAsync(s => s.EmailKey == "abgemeldet@example.test");
            var token = scope.ServiceProvider.GetRequiredService<TokenService>().Create(TokenPurpose.Unsubscribe, reader.Id, reader.TokenGeneration);
            Assert.True(await scope.ServiceProvider.GetRequiredService<UnsubscribeService>().UnsubscribeAsync(token, WithdrawalChannel.Link));
        }
        await app.OutboxIdleAsync();
        var statuses = await app.WithDbAsync(db => db.Subscribers.Select(s => s.Status).Distinct().ToListAsync());
        Assert.Equal(Enum.GetValues<SubscriberStatus>(), statuses.Order());
    }

    /// <summary>Rows in every table of the model (and, if asked, the migration history), by raw SQL: no query filter applies.</summary>
    private static async Task<Dictionary<string, long>> CountsAsync(AppDbContext db, bool withHistory = false)
    {
        var tables = db.Model.GetRelationalModel().Tables.Select(t => t.Name).ToList();
        if (withHistory) tables.Add("__EFMigrationsHistory");
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var counts = new Dictionary<string, long>();
        foreach (var table in tables)
        {
            await using DbCommand command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
            counts[table] = Convert.ToInt64(await command.ExecuteScalarAsync());
        }
        return counts;
    }

    /// <summary>The real program with <paramref name="app"/>'s settings, as the operator runs a verb beside the stopped app.</summary>
    private static Task<(int ExitCode, string Output, string Error)> RunAsync(AppFactory app, params string[] args) =>
        AppProcess.RunAsync(args, new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["App__DataDirectory"] = app.DataDirectory,
            ["App__MasterKey"] = app.MasterKey,
            ["Database__Provider"] = app.Provider.ToString(),
            ["Database__ConnectionString"] = app.ConnectionString,
            ["Smtp__PickupDirectory"] = Path.Combine(app.DataDirectory, "pickup"),
            ["Logging__LogLevel__Default"] = "Warning",
        }, Path.GetTempPath(), timeout: TimeSpan.FromSeconds(180));
}
