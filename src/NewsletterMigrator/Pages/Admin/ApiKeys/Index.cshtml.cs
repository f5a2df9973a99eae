using System.Globalization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Api;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.ApiKeys;

/// <summary>The API keys: list, create (the key shown once, in the answer to the form, never stored in plain), revoke. Admins only.</summary>
[Authorize(Roles = Roles.Admin)]
[ResponseCache(NoStore = true, Location = ResponseCacheLocation.None)]
public sealed class IndexModel(ApiKeyService keys, AppDbContext db, IStringLocalizer<SharedResource> text, TimeProvider clock) : PageModel
{
    public sealed record NewsletterChoice(int Id, string Slug, string Name);

    [BindProperty] public string? Name { get; set; }
    [BindProperty] public List<string> Scopes { get; set; } = [];
    [BindProperty] public List<int> NewsletterIds { get; set; } = [];
    [BindProperty] public string? Expires { get; set; }

    public List<ApiKey> Keys { get; private set; } = [];
    public List<NewsletterChoice> Newsletters { get; private set; } = [];
    /// <summary>The key just created: shown in this one answer only.</summary>
    public string? CreatedSecret { get; private set; }
    public string? CreatedName { get; private set; }

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        DateTime? expires = null;
        if (!string.IsNullOrWhiteSpace(Expires))
        {
            if (DateOnly.TryParseExact(Expires, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) expires = Berlin.EndOfDayUtc(date);
            else ModelState.AddModelError(nameof(Expires), text["Api_ExpiresInvalid"]);
        }
        if (!ModelState.IsValid) return Refused();
        var slugs = Newsletters.Where(n => NewsletterIds.Contains(n.Id)).Select(n => n.Slug).ToList();
        if (NewsletterIds.Distinct().Count() != slugs.Count) return NotFound(); // a newsletter deleted while the form was open
        var created = await keys.CreateAsync(Name, Scopes, slugs, expires, User.Identity!.Name!, ct);
        if (created.Refusal is { } refusal)
        {
            ModelState.AddModelError(refusal is ApiKeyRefusal.NameMissing or ApiKeyRefusal.NameTooLong or ApiKeyRefusal.NameTaken ? nameof(Name)
                : refusal == ApiKeyRefusal.ExpiryPassed ? nameof(Expires) : nameof(Scopes), text["Api_Refusal_" + refusal, created.About ?? ""]);
            return Refused();
        }
        CreatedSecret = created.Secret;
        CreatedName = created.Key!.Name;
        (Name, Scopes, NewsletterIds, Expires) = (null, [], [], null);
        await LoadAsync(ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(int id, CancellationToken ct)
    {
        var name = await db.ApiKeys.Where(k => k.Id == id).Select(k => k.Name).SingleOrDefaultAsync(ct);
        if (name is null) return NotFound();
        TempData["Message"] = await keys.RevokeAsync(id, User.Identity!.Name!, ct)
            ? text["Api_RevokedMessage", name].Value
            : text["Api_AlreadyRevoked", name].Value;
        return RedirectToPage();
    }

    public string NewsletterNames(ApiKey key) => key.Newsletters.Count == 0
        ? text["Api_AllNewsletters"]
        : string.Join(", ", key.Newsletters.Select(k => Newsletters.FirstOrDefault(n => n.Id == k.NewsletterId)?.Name ?? "?"));

    public bool Expired(ApiKey key) => key.ExpiresAtUtc <= clock.GetUtcNow().UtcDateTime;

    private PageResult Refused()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Keys = await keys.ListAsync(ct);
        Newsletters = await db.Newsletters.AsNoTracking().OrderBy(n => n.Name).Select(n => new NewsletterChoice(n.Id, n.Slug, n.Name)).ToListAsync(ct);
    }
}
