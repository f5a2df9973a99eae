using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NewsletterMigrator.Api;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.ApiKeys;

/// <summary>The API reference, rendered on the server from the OpenAPI document the API serves (no script, no CDN).</summary>
[Authorize(Roles = Roles.Admin)]
public sealed class ReferenceModel(ApiReference reference) : PageModel
{
    public ApiReference.Document Document { get; private set; } = new("", "", [], []);

    public async Task OnGetAsync(CancellationToken ct) => Document = await reference.ReadAsync(ct);

    /// <summary>An id for a schema's heading, so each operation's request and response link to it.</summary>
    public static string Anchor(string schema) => "schema-" + schema;

    public bool IsSchema(string? name) => name is not null && Document.Schemas.Any(s => s.Name == name);
}
