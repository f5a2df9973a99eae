using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Newsletters;

namespace NewsletterMigrator.Pages.Admin.Newsletters;

public sealed class EditModel(AppDbContext db, NewsletterService newsletters, ConsentTextService consentTexts,
    IStringLocalizer<SharedResource> text, TimeProvider clock, Inviting.InvitationLinks links) : PageModel
{
    /// <summary>Each language's invitation as sent, with a sample name and a link of the real length (C11: shown before sending).</summary>
    public string?[] InvitationPreviews { get; private set; } = new string?[2];

    [FromRoute] public int? Id { get; set; }
    [BindProperty] public NewsletterInput Input { get; set; } = new();
    public int[] ConsentVersions { get; private set; } = new int[Languages.Supported.Length];

    public async Task<IActionResult> OnGetAsync()
    {
        if (Id is null) return Page();
        var n = await db.Newsletters.AsNoTracking().SingleOrDefaultAsync(x => x.Id == Id);
        if (n is null) return NotFound();
        Input = new NewsletterInput
        {
            Name = n.Name, Slug = n.Slug, SenderName = n.SenderName, SenderAddress = n.SenderAddress, ReplyTo = n.ReplyTo,
            Impressum = n.Impressum, PrivacyNoticeUrl = n.PrivacyNoticeUrl, DefaultRegion = n.DefaultRegion,
            InvitationMessage = n.InvitationMessage, InvitationMessageEn = n.InvitationMessageEn,
            MigrationEndDate = n.MigrationEndsAtUtc is { } end ? DateOnly.FromDateTime(Berlin.ToLocal(end)) : null,
        };
        await LoadConsentTextsAsync(fillInput: true);
        FillPreviews();
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = User.Identity!.Name!;
        Input.Slug = Input.Slug?.Trim().ToLowerInvariant();
        Input.DefaultRegion = Input.DefaultRegion?.Trim().ToUpperInvariant();
        if (!NewsletterService.IsValidSlug(Input.Slug)) ModelState.AddModelError("Input.Slug", text["Newsletter_SlugInvalid"]);
        else if (await newsletters.SlugTakenAsync(Input.Slug!, Id)) ModelState.AddModelError("Input.Slug", text["Newsletter_SlugTaken"]);
        if (!EmailAddress.TryNormalize(Input.SenderAddress, out var sender)) ModelState.AddModelError("Input.SenderAddress", text["SignUp_EmailInvalid"]);
        var replyTo = "";
        if (!string.IsNullOrWhiteSpace(Input.ReplyTo) && !EmailAddress.TryNormalize(Input.ReplyTo, out replyTo))
            ModelState.AddModelError("Input.ReplyTo", text["SignUp_EmailInvalid"]);
        if (!PhoneNumbers.PhoneNumberUtil.GetInstance().GetSupportedRegions().Contains(Input.DefaultRegion ?? ""))
            ModelState.AddModelError("Input.DefaultRegion", text["Newsletter_RegionInvalid"]);
        if (!string.IsNullOrWhiteSpace(Input.PrivacyNoticeUrl) && !Uri.TryCreate(Input.PrivacyNoticeUrl, UriKind.Absolute, out _))
            ModelState.AddModelError("Input.PrivacyNoticeUrl", text["Newsletter_UrlInvalid"]);
        if (!string.IsNullOrWhiteSpace(Input.InvitationMessage) && !Input.InvitationMessage.Contains("{link}"))
            ModelState.AddModelError("Input.InvitationMessage", text["Newsletter_InvitationNeedsLink"]);
        if (!string.IsNullOrWhiteSpace(Input.InvitationMessageEn) && !Input.InvitationMessageEn.Contains("{link}"))
            ModelState.AddModelError("Input.InvitationMessageEn", text["Newsletter_InvitationNeedsLink"]);
        if (!ModelState.IsValid)
        {
            await LoadConsentTextsAsync(fillInput: false);
            FillPreviews();
            return Page();
        }

        var endsAt = Input.MigrationEndDate is { } date ? Berlin.EndOfDayUtc(date) : (DateTime?)null;
        if (Id is null)
        {
            var created = await newsletters.CreateAsync(new Newsletter
            {
                Name = Input.Name!.Trim(), Slug = Input.Slug!, SenderName = Input.SenderName!.Trim(), SenderAddress = sender,
                ReplyTo = string.IsNullOrEmpty(replyTo) ? null : replyTo, Impressum = Input.Impressum ?? "",
                PrivacyNoticeUrl = Input.PrivacyNoticeUrl ?? "", DefaultRegion = Input.DefaultRegion!,
                InvitationMessage = Input.InvitationMessage ?? "", InvitationMessageEn = Input.InvitationMessageEn?.Trim() ?? "",
                MigrationEndsAtUtc = endsAt,
            }, user);
            TempData["Message"] = text["Saved"].Value;
            return RedirectToPage(new { id = created.Id });
        }

        var n = await db.Newsletters.SingleOrDefaultAsync(x => x.Id == Id);
        if (n is null) return NotFound();
        n.Name = Input.Name!.Trim();
        n.Slug = Input.Slug!;
        n.SenderName = Input.SenderName!.Trim();
        n.SenderAddress = sender;
        n.ReplyTo = string.IsNullOrEmpty(replyTo) ? null : replyTo;
        n.Impressum = Input.Impressum ?? "";
        n.PrivacyNoticeUrl = Input.PrivacyNoticeUrl ?? "";
        n.DefaultRegion = Input.DefaultRegion!;
        n.InvitationMessage = string.IsNullOrWhiteSpace(Input.InvitationMessage) ? NewsletterService.DefaultInvitation : Input.InvitationMessage;
        n.InvitationMessageEn = Input.InvitationMessageEn?.Trim() ?? "";
        n.MigrationEndsAtUtc = endsAt;
        db.Audit(user, "settings", $"edited newsletter {n.Slug}", clock.GetUtcNow().UtcDateTime);
        await db.SaveChangesAsync();
        foreach (var consent in Input.ConsentTexts.Where(c => Languages.Supported.Contains(c.Language) && !string.IsNullOrWhiteSpace(c.Statement)))
        {
            await consentTexts.SaveAsync(n.Id, consent.Language, consent.Statement!.Trim(), consent.PrivacyInformation?.Trim() ?? "", n.PrivacyNoticeUrl, n.PrivacyNoticeVersion);
        }
        TempData["Message"] = text["Saved"].Value;
        return RedirectToPage(new { id = n.Id });
    }

    private void FillPreviews()
    {
        string? Preview(string? template) => string.IsNullOrWhiteSpace(template) ? null : Inviting.InvitationLinks.Fill(template, "Anna", links.SampleLink());
        InvitationPreviews = [Preview(Input.InvitationMessage), Preview(Input.InvitationMessageEn)];
    }

    private async Task LoadConsentTextsAsync(bool fillInput)
    {
        if (Id is null) return;
        for (var i = 0; i < Languages.Supported.Length; i++)
        {
            var current = await consentTexts.CurrentAsync(Id.Value, Languages.Supported[i]);
            ConsentVersions[i] = current?.Version ?? 0;
            if (fillInput || Input.ConsentTexts.Count <= i)
            {
                while (Input.ConsentTexts.Count <= i) Input.ConsentTexts.Add(new ConsentTextInput { Language = Languages.Supported[i] });
                Input.ConsentTexts[i] = new ConsentTextInput { Language = Languages.Supported[i], Statement = current?.Statement, PrivacyInformation = current?.PrivacyInformation };
            }
        }
    }
}

public sealed class NewsletterInput
{
    [Required(ErrorMessage = "Required"), StringLength(200)] public string? Name { get; set; }
    [Required(ErrorMessage = "Required"), StringLength(64)] public string? Slug { get; set; }
    [Required(ErrorMessage = "Required"), StringLength(200)] public string? SenderName { get; set; }
    [Required(ErrorMessage = "Required")] public string? SenderAddress { get; set; }
    public string? ReplyTo { get; set; }
    public string? Impressum { get; set; }
    public string? PrivacyNoticeUrl { get; set; }
    [Required(ErrorMessage = "Required")] public string? DefaultRegion { get; set; } = "DE";
    public string? InvitationMessage { get; set; } = NewsletterService.DefaultInvitation;
    public string? InvitationMessageEn { get; set; }
    public DateOnly? MigrationEndDate { get; set; }
    public List<ConsentTextInput> ConsentTexts { get; set; } = [];
}

public sealed class ConsentTextInput
{
    public string Language { get; set; } = "de";
    public string? Statement { get; set; }
    public string? PrivacyInformation { get; set; }
}
