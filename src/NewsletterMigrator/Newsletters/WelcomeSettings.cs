using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Newsletters;

/// <summary>A newsletter's welcome mail as an admin sets it (issue 21): on or off, its texts, how many latest issues it lists.</summary>
public sealed record WelcomeChange(bool Enabled, string Subject, string SubjectEn, string Markdown, string MarkdownEn, int LatestIssues);

/// <summary>Why a change of the welcome was refused; nothing was saved then. Each has a resx text <c>Welcome_Refusal_{name}</c>.</summary>
public enum WelcomeRefusal { None, GermanTextRequired, TextTooLong, SubjectTooLong, LatestIssuesOutOfRange }

/// <summary>
/// The rules for the welcome's settings, shared by the settings page and <c>update-newsletter</c>: German text required while
/// it is on (English optional: without it English readers get the German text), limits on sizes, and the time it was
/// switched on, which decides who gets it (readers confirmed before do not, see Consent/WelcomeQueue).
/// </summary>
public sealed class WelcomeSettings(AppDbContext db, TimeProvider clock)
{
    /// <summary>More than five issues turn a welcome into an index; the archive page is the place for that.</summary>
    public const int MaxLatestIssues = 5;
    /// <summary>50 KB of Markdown: several pages of text, far more than a welcome needs, and the command line's file limit.</summary>
    public const int MaxMarkdownBytes = 50 * 1024;
    /// <summary>As the column (AppDbContext) and a campaign's subject.</summary>
    public const int MaxSubjectLength = 200;

    public static WelcomeChange Of(Newsletter n) =>
        new(n.WelcomeEnabled, n.WelcomeSubject, n.WelcomeSubjectEn, n.WelcomeMarkdown, n.WelcomeMarkdownEn, n.WelcomeLatestIssues);

    public static WelcomeRefusal Check(WelcomeChange change)
    {
        if (change.Enabled && string.IsNullOrWhiteSpace(change.Markdown)) return WelcomeRefusal.GermanTextRequired;
        if (Encoding.UTF8.GetByteCount(change.Markdown ?? "") > MaxMarkdownBytes || Encoding.UTF8.GetByteCount(change.MarkdownEn ?? "") > MaxMarkdownBytes)
            return WelcomeRefusal.TextTooLong;
        if ((change.Subject ?? "").Trim().Length > MaxSubjectLength || (change.SubjectEn ?? "").Trim().Length > MaxSubjectLength)
            return WelcomeRefusal.SubjectTooLong;
        if (change.LatestIssues is < 0 or > MaxLatestIssues) return WelcomeRefusal.LatestIssuesOutOfRange;
        return WelcomeRefusal.None;
    }

    /// <summary>
    /// Checks and sets the change on <paramref name="n"/> with an audit entry, for the caller to save with its other changes.
    /// Switching on (from off) starts the welcome at <paramref name="now"/>: who confirmed before never gets it (no back-fill).
    /// </summary>
    public static WelcomeRefusal Apply(AppDbContext db, Newsletter n, WelcomeChange change, string user, DateTime now)
    {
        var refusal = Check(change);
        if (refusal != WelcomeRefusal.None) return refusal;
        var switchedOn = change.Enabled && !n.WelcomeEnabled;
        var switchedOff = !change.Enabled && n.WelcomeEnabled;
        n.WelcomeEnabled = change.Enabled;
        if (switchedOn) n.WelcomeEnabledAtUtc = now;
        n.WelcomeSubject = change.Subject?.Trim() ?? "";
        n.WelcomeSubjectEn = change.SubjectEn?.Trim() ?? "";
        // A textarea posts CRLF; stored with LF like the invitation texts, so what is stored does not depend on the browser.
        n.WelcomeMarkdown = (change.Markdown ?? "").Trim().ReplaceLineEndings("\n");
        n.WelcomeMarkdownEn = (change.MarkdownEn ?? "").Trim().ReplaceLineEndings("\n");
        n.WelcomeLatestIssues = change.LatestIssues;
        var what = switchedOn ? "switched on" : switchedOff ? "switched off" : "edited";
        db.Audit(user, "settings", $"welcome mail {what} for newsletter {n.Slug} (English text: {(n.WelcomeMarkdownEn.Length > 0 ? "yes" : "no")}, latest issues: {n.WelcomeLatestIssues})", now);
        return WelcomeRefusal.None;
    }

    /// <summary>The settings page's save; null when there is no such newsletter.</summary>
    public async Task<WelcomeRefusal?> SaveAsync(int newsletterId, WelcomeChange change, string user, CancellationToken ct = default)
    {
        var n = await db.Newsletters.SingleOrDefaultAsync(x => x.Id == newsletterId, ct);
        if (n is null) return null;
        var refusal = Apply(db, n, change, user, clock.GetUtcNow().UtcDateTime);
        if (refusal == WelcomeRefusal.None) await db.SaveChangesAsync(ct);
        return refusal;
    }
}
