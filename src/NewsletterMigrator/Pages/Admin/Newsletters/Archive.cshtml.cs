using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Archive;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

/// <summary>
/// Saves the archive settings posted from the settings page's archive section (<see cref="ArchiveSettingsViewComponent"/>),
/// apart from the main settings form, so a change of one never posts the other. Admins only (the folder's rule).
/// </summary>
public sealed class ArchiveModel(ArchiveService archive, IStringLocalizer<SharedResource> text) : PageModel
{
    public const string ErrorKey = "ArchiveSettingsError";

    [FromRoute] public int Id { get; set; }

    public async Task<IActionResult> OnPostAsync(string? mode, bool indexable)
    {
        // A value the form cannot send (a forged post): nothing is saved, the section says why.
        if (mode is null || !Enum.GetNames<ArchiveMode>().Contains(mode))
        {
            TempData[ErrorKey] = text["Archive_ModeInvalid"].Value;
        }
        else if (!await archive.SaveSettingsAsync(Id, Enum.Parse<ArchiveMode>(mode), indexable, User.Identity!.Name!))
        {
            return NotFound();
        }
        else
        {
            TempData["Message"] = text["Archive_Saved"].Value;
        }
        return RedirectToPage("Edit", null, new { id = Id }, "archive");
    }
}
