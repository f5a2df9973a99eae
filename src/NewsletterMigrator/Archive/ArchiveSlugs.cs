using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Archive;

/// <summary>
/// An issue's stable archive address (/n/{slug}/archive/{ArchiveSlug}): the Berlin date its sending started and its
/// subject in ASCII ("2026-12-03-sturmwarnung-fuer-den-kreis"), with -2, -3 … for a second issue of that day and subject.
/// Fixed once, in the transaction that starts the campaign, and never changed after: mails and feeds link it.
/// </summary>
public static class ArchiveSlugs
{
    /// <summary>The longest stem (date and subject); the suffix for a collision comes on top (the column holds 120).</summary>
    public const int MaxStemLength = 80;

    /// <summary>Enough for any real day: each attempt reads what is taken again, so only a true race costs one.</summary>
    private const int Attempts = 20;

    /// <summary>The stem: the start's Berlin date, a hyphen and the subject in lower-case ASCII (umlauts as ae, oe, ue, ss).</summary>
    public static string Stem(string subject, DateTime startedUtc)
    {
        var date = Berlin.ToLocal(startedUtc).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var words = Words(subject);
        if (words.Length == 0) return date;
        var stem = $"{date}-{words}";
        if (stem.Length <= MaxStemLength) return stem;
        // Cut at a word boundary where one lies in the last third, so the address does not end in half a word.
        var cut = stem[..MaxStemLength];
        var hyphen = cut.LastIndexOf('-');
        return (hyphen > MaxStemLength * 2 / 3 ? cut[..hyphen] : cut).TrimEnd('-');
    }

    /// <summary>The first of stem, stem-2, stem-3 … that is not in <paramref name="taken"/>.</summary>
    public static string FirstFree(string stem, IReadOnlySet<string> taken)
    {
        if (!taken.Contains(stem)) return stem;
        for (var n = 2; ; n++)
            if (!taken.Contains($"{stem}-{n}")) return $"{stem}-{n}";
    }

    /// <summary>
    /// Gives the tracked <paramref name="campaign"/> its archive slug and saves it with whatever else the caller changed,
    /// inside the caller's transaction. Two starts of same-subject issues on the same day (two editors, two instances, the
    /// scheduler) can both read the same slug as free: the unique index (NewsletterId, ArchiveSlug) refuses the second
    /// save, EF rolls the transaction back to the savepoint it set before the save (so PostgreSQL's transaction is usable
    /// again), and the next attempt reads the now committed slug and takes the next number.
    /// </summary>
    public static async Task SaveWithSlugAsync(AppDbContext db, Campaign campaign, CancellationToken ct)
    {
        var stem = Stem(campaign.Subject, campaign.StartedAtUtc ?? throw new InvalidOperationException("The campaign has not started."));
        for (var attempt = 1; ; attempt++)
        {
            var prefix = stem + "-";
            var taken = await db.Campaigns.AsNoTracking()
                .Where(c => c.NewsletterId == campaign.NewsletterId && c.Id != campaign.Id && c.ArchiveSlug != null
                            && (c.ArchiveSlug == stem || c.ArchiveSlug.StartsWith(prefix)))
                .Select(c => c.ArchiveSlug!).ToListAsync(ct);
            campaign.ArchiveSlug = FirstFree(stem, taken.ToHashSet(StringComparer.Ordinal));
            try
            {
                await db.SaveChangesAsync(ct);
                return;
            }
            catch (DbUpdateException e) when (UniqueViolation.Is(e) && attempt < Attempts)
            {
                // Taken between the read and the save by another start; read again.
            }
        }
    }

    /// <summary>The subject's words in lower-case ASCII, joined by single hyphens.</summary>
    private static string Words(string subject)
    {
        // By code point, not char: an emoji is two chars, and either half alone cannot be normalised (it throws). A broken
        // surrogate becomes U+FFFD on the way, so any string the editor saved gives an address.
        var whole = string.Concat(subject.EnumerateRunes().Select(r => r.ToString())).Normalize(NormalizationForm.FormC);
        var ascii = new StringBuilder(whole.Length);
        foreach (var rune in whole.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case 'ä' or 'Ä': ascii.Append("ae"); break;
                case 'ö' or 'Ö': ascii.Append("oe"); break;
                case 'ü' or 'Ü': ascii.Append("ue"); break;
                case 'ß' or 'ẞ': ascii.Append("ss"); break;
                default:
                    // Other accents lose their mark (é -> e); what has no ASCII letter in it becomes a separator.
                    foreach (var d in rune.ToString().Normalize(NormalizationForm.FormD))
                        if (CharUnicodeInfo.GetUnicodeCategory(d) != UnicodeCategory.NonSpacingMark) ascii.Append(d);
                    break;
            }
        }
        var words = new StringBuilder(ascii.Length);
        foreach (var c in ascii.ToString().ToLowerInvariant())
        {
            if (c is >= 'a' and <= 'z' or >= '0' and <= '9') words.Append(c);
            else if (words.Length > 0 && words[^1] != '-') words.Append('-');
        }
        return words.ToString().TrimEnd('-');
    }
}
