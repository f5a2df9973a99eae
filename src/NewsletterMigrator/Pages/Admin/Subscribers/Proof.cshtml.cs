using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator.Pages.Admin.Subscribers;

/// <summary>One subscriber's full ledger, printable, and exportable as JSON or CSV (C7). Admins only: it is personal data.</summary>
[Authorize(Roles = Roles.Admin)]
public sealed class ProofModel(ProofExport proofs, AppDbContext db, TimeProvider clock) : PageModel
{
    public SubscriberProof Proof { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var proof = await proofs.ForSubscriberAsync(id);
        if (proof is null) return NotFound();
        Proof = proof;
        return Page();
    }

    public async Task<IActionResult> OnGetExportAsync(Guid id, string format)
    {
        var proof = await proofs.ForSubscriberAsync(id);
        if (proof is null) return NotFound();
        db.Audit(User.Identity?.Name ?? "", "proof-export", $"subscriber {id}, {format}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        var name = $"consent-proof-{id:N}";
        return format == "csv"
            ? File(ProofExport.ToCsv([proof]), "text/csv; charset=utf-8", name + ".csv")
            : File(ProofExport.ToJson([proof]), "application/json", name + ".json");
    }
}
