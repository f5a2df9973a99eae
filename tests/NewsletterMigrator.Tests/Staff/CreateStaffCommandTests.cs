using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 15: <c>create-staff &lt;email&gt; --role Editor|Admin [--newsletter &lt;slug&gt;]...</c>, run as the real program in its
/// own process like <see cref="CommandLineTests"/>; a wrong role or slug is a clear error, a non-zero exit and no account.
/// </summary>
public sealed class CreateStaffCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("nm-cli-staff-").FullName;
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public void Dispose()
    {
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Create_staff_makes_an_editor_of_the_named_newsletters_and_refuses_an_unknown_slug_or_role()
    {
        foreach (var slug in new[] { "eilmeldungen", "sport" })
            Assert.Equal(0, (await RunAsync(["create-newsletter", "--slug", slug, "--name", slug, "--from", "news@example.test"])).ExitCode);

        var editor = await RunAsync(["create-staff", "ed@example.test", "--role", "Editor", "--newsletter", "eilmeldungen", "--newsletter", "sport"],
            environment: new() { ["NM_ADMIN_PASSWORD"] = "a long editor password" });
        Assert.True(editor.ExitCode == 0, editor.Error);
        Assert.Contains("Editor account ed@example.test created for eilmeldungen, sport.", editor.Output);
        Assert.Equal(["Editor|eilmeldungen", "Editor|sport"], await QueryAsync(
            "SELECT r.Name || '|' || n.Slug FROM AspNetUsers u JOIN AspNetUserRoles ur ON ur.UserId = u.Id JOIN AspNetRoles r ON r.Id = ur.RoleId " +
            "JOIN StaffNewsletters s ON s.UserId = u.Id JOIN Newsletters n ON n.Id = s.NewsletterId WHERE u.Email = 'ed@example.test' ORDER BY n.Slug"));

        var admin = await RunAsync(["create-staff", "chefin@example.test", "--role", "admin"], stdin: "a long admin password\n");
        Assert.True(admin.ExitCode == 0, admin.Error);
        Assert.Equal(["Admin"], await QueryAsync("SELECT r.Name FROM AspNetUsers u JOIN AspNetUserRoles ur ON ur.UserId = u.Id JOIN AspNetRoles r ON r.Id = ur.RoleId WHERE u.Email = 'chefin@example.test'"));

        var unknownSlug = await RunAsync(["create-staff", "x@example.test", "--role", "Editor", "--newsletter", "wetter"], stdin: "a long enough password\n");
        Assert.Equal(1, unknownSlug.ExitCode);
        Assert.Contains("No newsletter with the slug 'wetter'; nothing created.", unknownSlug.Error);
        var unknownRole = await RunAsync(["create-staff", "x@example.test", "--role", "Owner"], stdin: "a long enough password\n");
        Assert.Equal(1, unknownRole.ExitCode);
        Assert.Contains("Unknown role 'Owner': use Editor or Admin.", unknownRole.Error);
        var adminWithSlug = await RunAsync(["create-staff", "x@example.test", "--role", "Admin", "--newsletter", "sport"], stdin: "a long enough password\n");
        Assert.Equal(1, adminWithSlug.ExitCode);
        var shortPassword = await RunAsync(["create-staff", "x@example.test", "--role", "Editor"], stdin: "short\n");
        Assert.Equal(1, shortPassword.ExitCode);
        Assert.Contains("12", shortPassword.Error);
        var usage = await RunAsync(["create-staff", "x@example.test"]);
        Assert.Equal(1, usage.ExitCode);
        Assert.Contains("create-staff <email> --role Editor|Admin [--newsletter <slug>]...", usage.Error);
        Assert.Empty(await QueryAsync("SELECT Email FROM AspNetUsers WHERE Email = 'x@example.test'"));
    }

    [Fact]
    public async Task Create_staff_and_create_admin_refuse_an_address_no_mail_could_reach_and_create_nothing()
    {
        // Identity checks no characters (AllowedUserNameCharacters is empty): "a b@c" was created, and every later mail threw.
        foreach (var args in new[] { new[] { "create-staff", "a b@example.test", "--role", "Editor" }, ["create-admin", "a b@example.test"], ["create-admin", "nobody@nowhere"] })
        {
            var refused = await RunAsync(args, stdin: "a long enough password\n");
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("Could not create the account", refused.Error);
        }
        Assert.Empty(await QueryAsync("SELECT Email FROM AspNetUsers"));
    }

    [Fact]
    public async Task Create_staff_takes_every_address_the_app_accepts_such_as_one_with_an_apostrophe()
    {
        var created = await RunAsync(["create-staff", "o'neil@example.test", "--role", "Admin"], stdin: "a long admin password\n");
        Assert.True(created.ExitCode == 0, created.Error);
        Assert.Equal(["Admin"], await QueryAsync("SELECT r.Name FROM AspNetUsers u JOIN AspNetUserRoles ur ON ur.UserId = u.Id JOIN AspNetRoles r ON r.Id = ur.RoleId WHERE u.Email = 'o''neil@example.test'"));
    }

    private async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_data, "cli.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string[] args, string? stdin = null, Dictionary<string, string>? environment = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["App__DataDirectory"] = _data,
            ["App__MasterKey"] = _masterKey,
            ["Database__ConnectionString"] = $"Data Source={Path.Combine(_data, "cli.db")}",
            ["Smtp__PickupDirectory"] = Path.Combine(_data, "pickup"),
        };
        foreach (var (k, v) in environment ?? []) settings[k] = v;
        return AppProcess.RunAsync(args, settings, _data, stdin);
    }
}
