using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Importing;
using NewsletterMigrator.Staff;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

public static class InvitingTestData
{
    /// <summary>Imports "number;name" rows through the importer, as an editor's upload would.</summary>
    public static async Task<int> ImportAsync(this AppFactory app, Newsletter newsletter, string fileName, params (string Number, string Name)[] rows)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var importer = scope.ServiceProvider.GetRequiredService<ContactImporter>();
        var csv = "Telefonnummer;Name\r\n" + string.Concat(rows.Select(r => $"{r.Number};{r.Name}\r\n"));
        using var file = new MemoryStream(Encoding.UTF8.GetBytes(csv));
        var summary = await importer.ImportAsync(newsletter.Id, file, fileName, "test", TestImports.Basis);
        return summary.BatchId;
    }

    /// <summary>What the admin enters as the migration end date: a Berlin calendar date.</summary>
    public static Task SetMigrationEndAsync(this AppFactory app, Newsletter newsletter, DateOnly? date) =>
        app.WithDbAsync(db => db.Newsletters.Where(n => n.Id == newsletter.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(n => n.MigrationEndsAtUtc, date is { } d ? Berlin.EndOfDayUtc(d) : null)));

    public static DateOnly InAMonth => DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30));

    /// <summary>A staff browser (redirects not followed), signed in; <paramref name="email"/> for tests that read it back from the audit trail.</summary>
    public static async Task<HttpClient> SignedInAsync(this AppFactory app, string role, string? email = null)
    {
        email ??= $"{role.ToLowerInvariant()}@example.test";
        await app.StaffAsync(email, "long enough password", role);
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var response = await client.SignInAsync(email, "long enough password");
        if (response.StatusCode != System.Net.HttpStatusCode.Redirect) throw new InvalidOperationException("Sign-in failed.");
        return client;
    }

    public static Task<HttpClient> EditorAsync(this AppFactory app) => app.SignedInAsync(Roles.Editor);

    public static Task<HttpClient> AdminAsync(this AppFactory app) => app.SignedInAsync(Roles.Admin);
}
