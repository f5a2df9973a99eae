using System.Diagnostics;
using System.Text;
using Npgsql;

namespace NewsletterMigrator.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster (Debian's postgresql package): <c>initdb</c> into a temporary folder, one server on a
/// loopback port with trust authentication, started once per test run and stopped when the run ends. Each app host gets
/// its own database (<see cref="CreateDatabaseAsync"/>), dropped on dispose. Durability is switched off (fsync,
/// synchronous_commit): the cluster lives for one run.
/// PostgreSQL refuses to run as root, so under root (CI, containers) the server runs as the packaged postgres user.
/// </summary>
public sealed class TestPostgres
{
    private const string User = "nm";
    private static readonly Lazy<Task<TestPostgres>> Started = new(StartAsync);
    private readonly string _directory;
    private readonly Process _server;
    private readonly StringBuilder _output = new();

    private TestPostgres(string directory, int port, Process server)
    {
        _directory = directory;
        Port = port;
        _server = server;
        _server.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _server.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();
    }

    public int Port { get; }

    /// <summary>The folder of Debian's newest installed PostgreSQL programs, or null.</summary>
    public static string? BinDirectory { get; } = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault()
        : null;

    /// <summary>Null where PostgreSQL can run here; else why not, for a skipped test.</summary>
    public static string? MissingReason => BinDirectory is null
        ? "PostgreSQL is not installed (apt-get install postgresql)"
        : null;

    /// <summary>True where a missing PostgreSQL must fail the run instead of skipping (CI sets REQUIRE_POSTGRES=1).</summary>
    public static bool Required => Environment.GetEnvironmentVariable("REQUIRE_POSTGRES") == "1";

    /// <summary>The run's one cluster, started on first use.</summary>
    public static Task<TestPostgres> SharedAsync() => Started.Value;

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Include Error Detail=true";

    /// <summary>A new empty database for one app host (or several sharing it); its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "nm_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing what is still connected to it.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using (var pooled = new NpgsqlConnection(connectionString)) NpgsqlConnection.ClearPool(pooled);
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<TestPostgres> StartAsync()
    {
        if (MissingReason is { } reason) throw new InvalidOperationException(reason);
        var directory = Directory.CreateTempSubdirectory("nm-postgres-").FullName;
        var data = Path.Combine(directory, "data");
        if (AsRoot) await RunAsync(new ProcessStartInfo("chown", $"postgres {directory}"));
        await RunAsync(Tool("initdb", $"-D {data} -U {User} --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync"));

        // The free port is released before PostgreSQL binds it, so a parallel test may take it meanwhile: then try again.
        for (var attempt = 1; ; attempt++)
        {
            var port = TestSmtpServer.FreePort();
            var process = Process.Start(Tool("postgres",
                $"-D {data} -p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                "-c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB"))!;
            var server = new TestPostgres(directory, port, process);
            if (await server.WaitUntilReadyAsync())
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                return server;
            }
            server.Stop(deleteFiles: false);
            if (attempt >= 5 || !server.Output().Contains("Address already in use"))
                throw new InvalidOperationException($"PostgreSQL did not start:\n{server.Output()}");
        }
    }

    private async Task<bool> WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_server.HasExited) return false;
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false;Timeout=2");
                await connection.OpenAsync();
                return true;
            }
            catch (NpgsqlException) { await Task.Delay(100); }
        }
        return false;
    }

    private string Output()
    {
        lock (_output) return _output.ToString();
    }

    private void Stop(bool deleteFiles = true)
    {
        NpgsqlConnection.ClearAllPools();
        // SIGQUIT is PostgreSQL's immediate shutdown: nothing of a throwaway cluster needs to reach the disk.
        if (!_server.HasExited)
        {
            var pid = ServerPid() ?? _server.Id;
            using (var quit = Process.Start("kill", $"-QUIT {pid}")) quit.WaitForExit();
            if (!_server.WaitForExit(10_000)) _server.Kill(entireProcessTree: true);
        }
        if (deleteFiles)
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The postmaster's own pid (under root the started process is runuser, its parent).</summary>
    private int? ServerPid()
    {
        var file = Path.Combine(_directory, "data", "postmaster.pid");
        try { return File.Exists(file) && int.TryParse(File.ReadLines(file).First(), out var pid) ? pid : null; }
        catch (IOException) { return null; }
    }

    private static bool AsRoot => Environment.UserName == "root";

    /// <summary>One of PostgreSQL's programs, run as the postgres user where this process is root.</summary>
    private static ProcessStartInfo Tool(string name, string arguments)
    {
        var path = Path.Combine(BinDirectory!, name);
        var start = AsRoot ? new ProcessStartInfo("runuser", $"-u postgres -- {path} {arguments}") : new ProcessStartInfo(path, arguments);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return start;
    }

    private static async Task RunAsync(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{start.FileName} {start.Arguments} failed ({process.ExitCode}):\n{await output}{await error}");
    }
}
