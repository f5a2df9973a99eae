using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Join;

/// <summary>
/// The compact sign-up box a portal frames under its articles (issue 17): the same consent, rules and ledger as the
/// general page (C2–C6, C30, C31, C42), recorded with the page "embed". It sets no cookie, so cookie antiforgery is
/// replaced by <see cref="EmbedForm"/> (C32), and its language comes from the URL (<see cref="EmbedLanguageAttribute"/>).
/// </summary>
[IgnoreAntiforgeryToken] // EmbedForm checks the Origin and its own signed token instead: see there why
[EmbedLanguage]
public sealed class EmbedModel(AppDbContext db, ReaderCache cache, SignUpService signUps,
    IStringLocalizer<SharedResource> text, EmbedForm form) : SignUpPageModel(db, cache, signUps, text)
{
    protected override string PageName => "embed";

    /// <summary>The signed token this answer's form carries (rendered by hand: a posted old one must not win).</summary>
    public string FormToken { get; private set; } = "";

    [BindProperty(Name = EmbedForm.FieldName)] public string? PostedToken { get; set; }

    /// <summary>The message key of a POST refused before anything was read or stored; the form comes back fresh.</summary>
    public string? Refusal { get; private set; }

    /// <summary>The per-address limit (C31): answered in the frame, since the error page could not be framed.</summary>
    public bool TooMany { get; private set; }

    public async Task<IActionResult> OnGetAsync(string slug)
    {
        await LoadAsync(slug);
        return await ShowFormAsync();
    }

    public async Task<IActionResult> OnPostAsync(string slug)
    {
        if (!await LoadAsync(slug)) return NotFound();
        var check = form.Check(Request, PostedToken, Newsletter!.Id);
        if (check != EmbedFormCheck.Valid)
        {
            // Nothing of a refused POST comes back: a forged one may carry ticked boxes (C2), a stranger's address and
            // a filled honeypot. ShowFormAsync sets the consent text shown now.
            ModelState.Clear();
            Input = new SignUpInput();
            Refusal = check == EmbedFormCheck.ForeignOrigin ? "Embed_ForeignOrigin" : "Embed_FormExpired";
            Response.StatusCode = check == EmbedFormCheck.ForeignOrigin ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
            return await ShowFormAsync();
        }
        var result = await SubmitAsync();
        if (result is not StatusCodeResult { StatusCode: StatusCodes.Status429TooManyRequests }) return result;
        TooMany = true;
        Response.StatusCode = StatusCodes.Status429TooManyRequests;
        return Page();
    }

    private async Task<bool> LoadAsync(string slug)
    {
        // From the reader cache, like the general page: the box is loaded with every article a portal shows.
        Newsletter = await Cache.NewsletterBySlugAsync(slug);
        if (Newsletter is null) return false;
        SecurityHeaders.AllowFramingBy(HttpContext, EmbedOrigins.Parse(Newsletter.EmbedOrigins).Origins);
        FormToken = form.Issue(Newsletter.Id);
        return true;
    }
}
