using System.Buffers;
using System.Text.RegularExpressions;

namespace NewsletterMigrator.Importing;

/// <summary>A further number of an entry that was not taken, for the row report: a reason key (<c>Reason_&lt;key&gt;</c>) and the value with where it stood.</summary>
public readonly record struct PhoneNote(string Reason, string Value);

/// <summary>
/// Which number of an entry becomes the contact's: its E.164 form, or why the entry is invalid; the entry's other numbers
/// become report notes. One entry may hold several numbers in several columns, in a type-labelled column, as several
/// vCard TELs, or in one cell (<c>0171 2345678 / 030 1234567</c>, Google's <c> ::: </c>, a line break, <c>oder</c>).
/// </summary>
public readonly partial record struct PhoneChoice(string? E164, string? InvalidReason, PhoneNote[]? Notes = null)
{
    /// <summary>A further mobile-capable number of the entry, not taken because another one was.</summary>
    public const string OtherMobile = "other_mobile";
    /// <summary>A further value of the entry that is no phone number at all.</summary>
    public const string OtherInvalid = "other_invalid";
    /// <summary>The entry has several numbers and none of them can be a mobile number.</summary>
    public const string NoMobileNumber = "no_mobile_number";

    /// <summary>The reasons that only annotate a row (it may still be imported): not counted as invalid rows.</summary>
    public static readonly string[] NoteReasons = [Importing.InvalidReason.Landline, OtherMobile, OtherInvalid];

    public bool IsValid => E164 is not null;

    /// <summary>
    /// The entry's number: a mobile-capable number (libphonenumber MOBILE or FIXED_LINE_OR_MOBILE) labelled Mobile, else
    /// the first mobile-capable one; the others are noted (<c>landline</c>, <c>other_mobile</c>, <c>other_invalid</c>).
    /// An entry with a single number keeps <see cref="PhoneNormalizer"/>'s reasons; one with several numbers and no
    /// mobile one is <see cref="NoMobileNumber"/>.
    /// </summary>
    public static PhoneChoice Choose(ContactRow row, string region)
    {
        if (row.Candidates is null)
        {
            // The common path, a million times per import: one scan for a separator, nothing allocated. A '/' is common in
            // German numbers (0171/2345678), so such a value is first parsed whole, as before, and split only if that fails.
            var phone = row.Phone;
            if (phone is null || !MayHoldSeveral(phone)) return From(PhoneNormalizer.Normalize(phone, region));
            var whole = PhoneNormalizer.Normalize(phone, region);
            if (IsNumber(whole)) return From(whole);
            var parts = Split(phone, PhoneLabel.Unlabelled, "", region);
            return parts is null ? From(whole) : Choose(parts);
        }

        var all = new List<(PhoneCandidate Candidate, PhoneResult Result)>(row.Candidates.Count + 1);
        foreach (var candidate in row.Candidates)
        {
            if (string.IsNullOrWhiteSpace(candidate.Value)) continue;
            var result = PhoneNormalizer.Normalize(candidate.Value, region);
            if (!IsNumber(result) && MayHoldSeveral(candidate.Value) && Split(candidate.Value, candidate.Label, candidate.Source, region) is { } parts)
                all.AddRange(parts);
            else all.Add((candidate, result));
        }
        return all.Count switch
        {
            0 => From(PhoneNormalizer.Normalize(null, region)),
            // One number, however it was written: the reasons of a one-number list, so their counts stay comparable.
            1 => From(all[0].Result),
            _ => Choose(all),
        };
    }

    private static PhoneChoice Choose(List<(PhoneCandidate Candidate, PhoneResult Result)> all)
    {
        var taken = all.FindIndex(x => x.Result.IsValid && x.Candidate.Label == PhoneLabel.Mobile);
        if (taken < 0) taken = all.FindIndex(x => x.Result.IsValid);
        var notes = new List<PhoneNote>(all.Count);
        for (var i = 0; i < all.Count; i++)
        {
            if (i == taken) continue;
            var (candidate, result) = all[i];
            // The same number twice (a Google contact's mobile also as "Main") is one number: nothing to tell.
            if (taken >= 0 && result.E164 == all[taken].Result.E164) continue;
            var reason = result.IsValid ? OtherMobile : result.InvalidReason == Importing.InvalidReason.NotMobile ? Importing.InvalidReason.Landline : OtherInvalid;
            notes.Add(new PhoneNote(reason, candidate.Source.Length == 0 ? candidate.Value : $"{candidate.Value} ({candidate.Source})"));
        }
        var noted = notes.Count > 0 ? notes.ToArray() : null;
        return taken < 0 ? new PhoneChoice(null, NoMobileNumber, noted) : new PhoneChoice(all[taken].Result.E164, null, noted);
    }

    private static PhoneChoice From(PhoneResult result) => new(result.E164, result.InvalidReason);

    /// <summary>A phone number of any kind: mobile-capable, or a valid landline (libphonenumber knows it either way).</summary>
    private static bool IsNumber(PhoneResult result) => result.IsValid || result.InvalidReason == Importing.InvalidReason.NotMobile;

    private static readonly SearchValues<char> Separators = SearchValues.Create("/;|,&:\r\n");

    /// <summary>Cheap pre-check: without one of these the value is one number (or none), and is parsed as it is.</summary>
    internal static bool MayHoldSeveral(string value)
    {
        // One vectorised scan answers for almost every row; the joining words are looked for only where an 'o' or 'u' stands.
        var span = value.AsSpan();
        var at = span.IndexOfAny(SeparatorsAndWordLetters);
        if (at < 0) return false;
        if (span[at..].IndexOfAny(Separators) >= 0) return true;
        return span.Contains(" oder ", StringComparison.OrdinalIgnoreCase) || span.Contains(" or ", StringComparison.OrdinalIgnoreCase)
            || span.Contains(" und ", StringComparison.OrdinalIgnoreCase);
    }

    private static readonly SearchValues<char> SeparatorsAndWordLetters = SearchValues.Create("/;|,&:\r\noOuU");

    /// <summary>
    /// The numbers of a cell that holds several, or null when it holds one. The rule that tells <c>0171 2345678 / 030 1234567</c>
    /// (two numbers) from <c>0171/2345678</c> and <c>0171 / 2345678</c> (one number, German writing): the cell is split only when
    /// the whole is no number (checked by the caller) and every part on its own is one. "0171" alone is none, so the German
    /// area-code slash never splits.
    /// </summary>
    private static List<(PhoneCandidate, PhoneResult)>? Split(string value, PhoneLabel label, string source, string region)
    {
        var pieces = SeparatorPattern().Split(value);
        var parts = new List<(PhoneCandidate, PhoneResult)>(pieces.Length);
        foreach (var piece in pieces)
        {
            var part = piece.Trim();
            if (part.Length == 0) continue;
            var result = PhoneNormalizer.Normalize(part, region);
            if (!IsNumber(result)) return null;
            // "privat: 030 …" next to "mobil: 0171 …": the words in the cell label the parts.
            parts.Add((new PhoneCandidate(part, LabelOf(part) is var own && own != PhoneLabel.Unlabelled ? own : label, source), result));
        }
        return parts.Count >= 2 ? parts : null;
    }

    private static readonly string[] MobileWords = ["mobil", "cell", "handy", "iphone", "whatsapp"];
    private static readonly string[] OtherWords = ["privat", "home", "work", "büro", "buero", "festnetz", "geschäft", "business", "fax", "office", "main", "arbeit"];

    /// <summary>A label as an export writes it (a type column's <c>* Mobile</c>, a vCard's <c>_$!&lt;Mobile&gt;!$_</c>, a word in a cell).</summary>
    public static PhoneLabel LabelOf(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return PhoneLabel.Unlabelled;
        foreach (var word in MobileWords)
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase)) return PhoneLabel.Mobile;
        foreach (var word in OtherWords)
            if (text.Contains(word, StringComparison.OrdinalIgnoreCase)) return PhoneLabel.Other;
        return PhoneLabel.Unlabelled;
    }

    [GeneratedRegex(@"\s*(?::::|[;/|,&\r\n]|\s(?:oder|or|und|and)\s)\s*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SeparatorPattern();

}
