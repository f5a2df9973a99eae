using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Join;

/// <summary>
/// The consent page behind /i/{token} and /n/{slug}. It never shows the invited contact's name or
/// number (C34): invitation links get forwarded.
/// </summary>
public abstract class SignUpPageModel(AppDbContext db, ReaderCache cache, SignUpService signUps,
    IStringLocalizer<SharedResource> text) : PageModel
{
    protected AppDbContext Db { get; } = db;

    /// <summary>Newsletters and consent texts from memory (issue 17). Its objects are shared between requests: read-only.</summary>
    protected ReaderCache Cache { get; } = cache;

    public Newsletter? Newsletter { get; protected set; }
    public ConsentText? ConsentText { get; private set; }
    public bool Submitted { get; private set; }
    /// <summary>The newsletter's legal identity is incomplete: the page says so and shows no form (C38).</summary>
    public bool NotOpen { get; private set; }

    [BindProperty] public SignUpInput Input { get; set; } = new();

    protected abstract string PageName { get; }
    protected Guid? InvitationContactId { get; set; }

    /// <summary>Loads the consent text in the reader's language and fixes that version as seen.</summary>
    protected async Task<IActionResult> ShowFormAsync()
    {
        if (Newsletter is null) return NotFound();
        if (!IsOpen()) return Page();
        ConsentText = await Cache.ConsentTextAsync(Newsletter, Languages.Current);
        if (ConsentText is null) return NotFound();
        Input.ConsentTextId = ConsentText.Id;
        return Page();
    }

    /// <summary>Every answer, whatever the address, takes at least the configured time (C30).</summary>
    protected async Task<IActionResult> SubmitAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await SubmitCoreAsync();
        var remaining = signUps.MinimumDuration - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining, HttpContext.RequestAborted);
        return result;
    }

    /// <summary>Shows the newsletter in header and footer, and whether it may take sign-ups at all (C38).</summary>
    private bool IsOpen()
    {
        this.Show(Newsletter!);
        NotOpen = !LegalReadiness.IsOpen(Newsletter!);
        return !NotOpen;
    }

    private async Task<IActionResult> SubmitCoreAsync()
    {
        if (Newsletter is null) return NotFound();
        if (!IsOpen()) return Page();
        // A bot fills every field; a person never sees this one. Answer as if it worked.
        if (!string.IsNullOrEmpty(Input.Website))
        {
            Submitted = true;
            return Page();
        }
        // Record the version the reader saw (the id the form carried), provided it belongs to this newsletter; else show
        // the current one again. Usually that is the cached current version; any other id is read from the database. A
        // version that was shown never changes (ConsentTextService), so either copy holds the words the reader read (C7).
        var current = await Cache.ConsentTextAsync(Newsletter, Languages.Current);
        ConsentText = current is not null && current.Id == Input.ConsentTextId ? current
            : await Db.ConsentTexts.AsNoTracking().SingleOrDefaultAsync(c => c.Id == Input.ConsentTextId && c.NewsletterId == Newsletter.Id)
              ?? current;
        if (ConsentText is null) return NotFound();
        Input.ConsentTextId = ConsentText.Id;

        if (!Input.Consent) ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Consent)}", text["SignUp_ConsentRequired"]);
        if (!Input.AgeConfirmed) ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.AgeConfirmed)}", text["SignUp_AgeRequired"]);
        if (!ModelState.IsValid) return Page();

        var outcome = await signUps.SignUpAsync(new SignUpRequest(Newsletter, ConsentText, Input.Email!, Languages.Current,
            InvitationContactId, HttpContext.Connection.RemoteIpAddress?.ToString(), Request.Headers.UserAgent.ToString(), PageName)
            { AgeConfirmed = Input.AgeConfirmed });
        if (outcome == SignUpOutcome.InvalidEmail)
        {
            ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.Email)}", text["SignUp_EmailInvalid"]);
            return Page();
        }
        // The same friendly 429 page as the per-IP limit (rendered by /error).
        if (outcome == SignUpOutcome.TooManyForAddress) return StatusCode(StatusCodes.Status429TooManyRequests);
        if (outcome == SignUpOutcome.NotOpen)
        {
            NotOpen = true; // the settings changed while the form was open
            return Page();
        }
        Submitted = true;
        return Page();
    }
}

public sealed class SignUpInput
{
    [Required(ErrorMessage = "SignUp_EmailRequired")]
    [StringLength(254, ErrorMessage = "SignUp_EmailInvalid")]
    [Display(Name = "SignUp_Email")]
    public string? Email { get; set; }

    public bool Consent { get; set; }
    public bool AgeConfirmed { get; set; }
    public int ConsentTextId { get; set; }

    /// <summary>The honeypot (C31).</summary>
    public string? Website { get; set; }
}
