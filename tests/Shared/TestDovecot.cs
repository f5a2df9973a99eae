using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Security;
using MimeKit;

namespace NewsletterMigrator.Testing;

/// <summary>
/// A throwaway Dovecot (Debian's dovecot-imapd) on a loopback port: its own configuration, sockets, log and maildir in a
/// temporary folder, one user with a random password, plain IMAP without TLS. Killed and deleted on dispose.
/// Dovecot refuses to run its login processes as root and to open mail as uid 0, so under root (CI, containers) the
/// packaged users do the work: logins as dovenull, internal processes as dovecot, the mail as nobody, who owns the maildir.
/// Run as another user, everything runs as that user.
/// </summary>
public sealed class TestDovecot : IAsyncDisposable
{
    public const string DovecotPath = "/usr/sbin/dovecot";
    public const string UserName = "bounces";
    /// <summary>The app logs in as this user, to the same mailbox: its logins are counted apart from the harness's own.</summary>
    public const string AppUserName = "bounces-app";

    /// <summary>What Dovecot 2.3 offers after login; <see cref="StartAsync"/> can take some away to test the fallbacks.</summary>
    private const string FullCapability = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS " +
        "THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE " +
        "QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE " +
        "SAVEDATE LITERAL+ NOTIFY";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _greeting;

    /// <summary>Null where Dovecot can run here; else why not, for a skipped test.</summary>
    public static string? MissingReason => File.Exists(DovecotPath)
        ? null
        : $"Dovecot is not installed at {DovecotPath} (apt-get install dovecot-imapd)";

    private TestDovecot(string directory, int port, string password, string greeting, Process process)
    {
        _greeting = greeting;
        Directory = directory;
        Port = port;
        Password = password;
        _process = process;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Directory { get; }
    public int Port { get; }
    public string Password { get; }
    public string LogPath => Path.Combine(Directory, "dovecot.log");

    /// <param name="without">Capabilities the server does not announce after login, e.g. "IDLE" or "MOVE".</param>
    public static async Task<TestDovecot> StartAsync(params string[] without)
    {
        if (MissingReason is { } reason || !OperatingSystem.IsLinux()) throw new InvalidOperationException(MissingReason ?? "Dovecot runs on Linux only.");
        // The free port is released before Dovecot binds it, so a test running in parallel can take it meanwhile: then
        // Dovecot stops at start and it is tried again on another port.
        for (var attempt = 1; ; attempt++)
        {
            var server = await TryStartAsync(without);
            try
            {
                await server.WaitUntilListeningAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5 && server.Output().Contains("Address already in use"))
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    private static async Task<TestDovecot> TryStartAsync(string[] without)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        var directory = System.IO.Directory.CreateTempSubdirectory("nm-dovecot-").FullName;
        var port = FreePort();
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        // Dovecot's greeting names this server: the start-up probe cannot mistake another server on the port for it.
        var greeting = $"nm-test-{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}";
        var (loginUser, internalUser, mailUid, mailGid) = Users();
        var mail = Path.Combine(directory, "mail");
        System.IO.Directory.CreateDirectory(mail);
        if (geteuid() == 0)
        {
            // nobody must pass through the temporary folder (created 0700) to reach its maildir.
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            if (chown(mail, mailUid, mailGid) != 0) throw new IOException($"chown of {mail} failed ({Marshal.GetLastPInvokeError()})");
        }
        await File.WriteAllTextAsync(Path.Combine(directory, "users"), $"{UserName}:{{PLAIN}}{password}\n{AppUserName}:{{PLAIN}}{password}\n");
        var capability = string.Join(' ', FullCapability.Split(' ').Where(c => !without.Contains(c, StringComparer.OrdinalIgnoreCase)));
        var config = Path.Combine(directory, "dovecot.conf");
        await File.WriteAllTextAsync(config, $$"""
            base_dir = {{directory}}/run
            state_dir = {{directory}}/state
            log_path = {{directory}}/dovecot.log
            protocols = imap
            listen = 127.0.0.1
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            login_greeting = {{greeting}}
            default_login_user = {{loginUser}}
            default_internal_user = {{internalUser}}
            default_internal_group = {{internalUser}}
            first_valid_uid = 1
            # Both users (the harness's and the app's) open the one mailbox.
            mail_location = maildir:{{mail}}/{{UserName}}
            # A test's mailbox need not survive a power cut; the bench appends 10,000 mails.
            mail_fsync = never
            imap_capability = {{capability}}
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {{directory}}/users
            }
            userdb {
              driver = static
              args = uid={{mailUid}} gid={{mailGid}} home={{mail}}/{{UserName}}
            }
            service imap-login {
              inet_listener imap {
                address = 127.0.0.1
                port = {{port}}
              }
              inet_listener imaps {
                port = 0
              }
            }
            """);
        // Dovecot runs under a shell that stops it when the test host goes away: the host holds the shell's stdin, and a
        // killed host (a crash, a CI timeout) closes it. (A background job's stdin is /dev/null, hence the copy on 3.) Else a root-run Dovecot would outlive every aborted test run.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-c", "exec 3<&0; \"$0\" -F -c \"$1\" </dev/null 3<&- & d=$!; (cat <&3 >/dev/null; kill $d 2>/dev/null) & wait $d", DovecotPath, config })
            start.ArgumentList.Add(a);
        return new TestDovecot(directory, port, password, greeting, Process.Start(start)!);
    }

    /// <summary>The app's settings for this mailbox, plus <paramref name="extra"/>.</summary>
    public Dictionary<string, string?> Settings(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Bounces:Imap:Host"] = "127.0.0.1",
            ["Bounces:Imap:Port"] = Port.ToString(),
            ["Bounces:Imap:Security"] = "None",
            ["Bounces:Imap:UserName"] = AppUserName,
            ["Bounces:Imap:Password"] = Password,
        };
        foreach (var (key, value) in extra) settings[key] = value;
        return settings;
    }

    /// <summary>A client logged in to the test user's mailbox, as staff's mail client would be.</summary>
    public async Task<ImapClient> ConnectAsync()
    {
        var client = new ImapClient();
        await client.ConnectAsync("127.0.0.1", Port, SecureSocketOptions.None);
        await client.AuthenticateAsync(UserName, Password);
        return client;
    }

    /// <summary>Puts mails into the inbox with IMAP APPEND, as a mail server delivering them would, optionally with their arrival time.</summary>
    public async Task AppendAsync(IEnumerable<byte[]> mails, DateTimeOffset? arrivedAt = null)
    {
        using var client = await ConnectAsync();
        var batch = new List<IAppendRequest>();
        foreach (var raw in mails)
        {
            batch.Add(new AppendRequest(MimeMessage.Load(new MemoryStream(raw)), MessageFlags.None) { InternalDate = arrivedAt });
            // MULTIAPPEND: many mails in one command, as the bench needs thousands.
            if (batch.Count == 200) await FlushAsync();
        }
        await FlushAsync();
        await client.DisconnectAsync(true);

        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            await client.Inbox.AppendAsync(batch);
            batch.Clear();
        }
    }

    /// <summary>
    /// Delivers <paramref name="raw"/> byte for byte, as a local delivery agent does: a file in the user's maildir "new"
    /// folder. For mails that APPEND cannot carry because MimeKit would have to parse them first (junk without headers).
    /// </summary>
    public async Task DeliverRawAsync(byte[] raw)
    {
        var (_, _, uid, gid) = Users();
        var maildir = Path.Combine(Directory, "mail", UserName);
        foreach (var sub in new[] { "", "cur", "new", "tmp" })
        {
            var path = Path.Combine(maildir, sub);
            System.IO.Directory.CreateDirectory(path);
            if (geteuid() == 0) chown(path, uid, gid);
        }
        var name = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Guid.NewGuid():N}.test";
        var temporary = Path.Combine(maildir, "tmp", name);
        await File.WriteAllBytesAsync(temporary, raw);
        if (geteuid() == 0) chown(temporary, uid, gid);
        File.Move(temporary, Path.Combine(maildir, "new", name));
    }

    /// <summary>
    /// Takes every permission away from the inbox file holding <paramref name="raw"/> (and, under root, gives it to root), so
    /// the server lists the mail but cannot hand it out, as with a damaged file.
    /// </summary>
    public void MakeUnreadable(byte[] raw)
    {
        var id = MimeMessage.Load(new MemoryStream(raw)).MessageId ?? throw new ArgumentException("The mail has no Message-ID.", nameof(raw));
        var file = System.IO.Directory.EnumerateFiles(Path.Combine(Directory, "mail", UserName), "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) is "cur" or "new")
            .Single(f => File.ReadAllText(f).Contains(id, StringComparison.Ordinal));
        if (geteuid() == 0) chown(file, 0, 0);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(file, UnixFileMode.None);
    }

    public Task AppendAsync(params string[] mails) => AppendAsync(mails.Select(m => Encoding.UTF8.GetBytes(m.ReplaceLineEndings("\r\n"))));

    /// <summary>Every folder with the mails in it, by full name (e.g. "Processed.HardBounce"), read with one client.</summary>
    public async Task<Dictionary<string, int>> FolderCountsAsync()
    {
        using var client = await ConnectAsync();
        var counts = new Dictionary<string, int>();
        foreach (var folder in await client.GetFoldersAsync(client.PersonalNamespaces[0], StatusItems.Count))
            counts[folder.FullName] = folder.Count;
        await client.DisconnectAsync(true);
        return counts;
    }

    /// <summary>The raw bytes of each mail in a folder, as an IMAP client fetching BODY.PEEK[] gets them.</summary>
    public async Task<List<byte[]>> FetchRawAsync(string folder = "INBOX")
    {
        using var client = await ConnectAsync();
        var open = folder == "INBOX" ? client.Inbox : await client.GetFolderAsync(folder);
        await open.OpenAsync(FolderAccess.ReadOnly);
        var mails = new List<byte[]>();
        foreach (var uid in await open.SearchAsync(MailKit.Search.SearchQuery.All))
        {
            await using var stream = await open.GetStreamAsync(uid);
            var raw = new byte[stream.Length];
            await stream.ReadExactlyAsync(raw);
            mails.Add(raw);
        }
        await client.DisconnectAsync(true);
        return mails;
    }

    /// <summary>
    /// The app's successful IMAP logins so far (as <see cref="AppUserName"/>), from Dovecot's own log. Dovecot writes its
    /// log asynchronously: wait for a count to be reached rather than read it once.
    /// </summary>
    public int ReaderLogins => File.Exists(LogPath)
        ? File.ReadLines(LogPath).Count(l => l.Contains("imap-login: Info: Login: user=<" + AppUserName + ">"))
        : 0;

    /// <summary>
    /// Ends every IMAP session at once, as a server restart or a network drop would: the imap processes are killed.
    /// Returns how many there were.
    /// </summary>
    public int DropConnections()
    {
        var sessions = Descendants(_process.Id).Where(pid => ReadProc(pid, "comm") == "imap").ToList();
        foreach (var pid in sessions)
        {
            try { using var p = Process.GetProcessById(pid); p.Kill(); } catch (ArgumentException) { } catch (InvalidOperationException) { }
        }
        return sessions.Count;
    }

    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in System.IO.Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            var stat = ReadProc(pid, "stat");
            // "pid (comm) state ppid ...": the command may hold spaces, so read after its closing parenthesis.
            var fields = stat?[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields is { Length: > 1 } && int.TryParse(fields[1], out var ppid)) parents[pid] = ppid;
        }
        var found = new HashSet<int> { root };
        bool grew;
        do
        {
            grew = false;
            foreach (var (pid, ppid) in parents)
                if (found.Contains(ppid) && found.Add(pid)) grew = true;
        } while (grew);
        found.Remove(root);
        return found;
    }

    private static string? ReadProc(int pid, string file)
    {
        try { return File.ReadAllText($"/proc/{pid}/{file}").Trim(); } catch (IOException) { return null; } catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Until this server greets on its port with its own greeting: a bare TCP connect could reach another one.</summary>
    private async Task WaitUntilListeningAsync()
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"Dovecot stopped at start:\n{Output()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                using var reader = new StreamReader(probe.GetStream(), Encoding.ASCII);
                var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
                if (line is not null && line.StartsWith("* OK") && line.Contains(_greeting)) return;
                if (DateTime.UtcNow > until) throw new InvalidOperationException($"Another server answers on port {Port}: {line}");
            }
            catch (Exception e) when (e is SocketException or IOException or TimeoutException && DateTime.UtcNow < until)
            {
            }
            await Task.Delay(50);
        }
    }

    public string Output()
    {
        lock (_output) return _output + (File.Exists(LogPath) ? File.ReadAllText(LogPath) : "");
    }

    private static (string Login, string Internal, uint MailUid, uint MailGid) Users()
    {
        if (geteuid() != 0) return (Environment.UserName, Environment.UserName, geteuid(), getegid());
        var nobody = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).FirstOrDefault(f => f[0] == "nobody")
            ?? throw new InvalidOperationException("No user 'nobody' to own the test maildir.");
        return ("dovenull", "dovecot", uint.Parse(nobody[2]), uint.Parse(nobody[3]));
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [DllImport("libc")]
    private static extern uint geteuid();

    [DllImport("libc")]
    private static extern uint getegid();

    [DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);

    public async ValueTask DisposeAsync()
    {
        try
        {
            // The master and its login, auth and imap processes: a throwaway server needs no clean shutdown.
            _process.StandardInput.Close();
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
