using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

/// <summary>
/// Which newsletters the signed-in staff member may see: an admin all of them, an editor those assigned to them
/// (<see cref="StaffNewsletter"/>), nobody else any. The one place this rule lives; looked up once per request
/// (the service is scoped) and kept for the rest of it.
/// </summary>
public sealed class NewsletterScope(IHttpContextAccessor http, AppDbContext db)
{
    private IReadOnlySet<int>? _assigned;

    private ClaimsPrincipal User => http.HttpContext?.User ?? new ClaimsPrincipal();

    /// <summary>True for an admin, who sees every newsletter.</summary>
    public bool SeesAll => User.IsInRole(Roles.Admin);

    public async Task<bool> AllowsAsync(int newsletterId, CancellationToken ct = default) =>
        SeesAll || (await AssignedAsync(ct)).Contains(newsletterId);

    /// <summary>The newsletters of <paramref name="query"/> this staff member may see.</summary>
    public async Task<IQueryable<Newsletter>> FilterAsync(IQueryable<Newsletter> query, CancellationToken ct = default)
    {
        if (SeesAll) return query;
        var assigned = (await AssignedAsync(ct)).ToList();
        return query.Where(n => assigned.Contains(n.Id));
    }

    private async Task<IReadOnlySet<int>> AssignedAsync(CancellationToken ct)
    {
        if (_assigned is not null) return _assigned;
        // Roles.Editor is checked too: a principal without a staff role (none exists today) sees nothing.
        var userId = User.FindFirstValue(ClaimTypes.NameIdentifier);
        _assigned = userId is null || !User.IsInRole(Roles.Editor)
            ? new HashSet<int>()
            : (await db.StaffNewsletters.AsNoTracking().Where(s => s.UserId == userId).Select(s => s.NewsletterId).ToListAsync(ct)).ToHashSet();
        return _assigned;
    }
}

/// <summary>
/// Every page and endpoint whose route names a newsletter (<c>{newsletterId}</c>) answers 404 to a staff member who may
/// not see it, as if it did not exist. One middleware, after authorization, covers Razor pages and minimal endpoints
/// alike (the QR code), with nothing to repeat per page; it runs before <c>RequestBodyLimits</c> and any handler, so an
/// upload or a form for another newsletter is refused before a byte of it is read.
/// </summary>
public sealed class NewsletterScopeMiddleware(RequestDelegate next)
{
    public const string RouteValue = "newsletterId";

    public async Task InvokeAsync(HttpContext context, NewsletterScope scope)
    {
        if (context.GetRouteValue(RouteValue) is { } value && context.User.Identity?.IsAuthenticated == true)
        {
            if (!int.TryParse(value.ToString(), out var newsletterId) || !await scope.AllowsAsync(newsletterId, context.RequestAborted))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
        }
        await next(context);
    }
}
