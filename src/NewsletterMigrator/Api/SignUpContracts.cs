using System.ComponentModel;

namespace NewsletterMigrator.Api;

/// <summary>The consent text to show beside the portal's own form, exactly as stored (C7, C43).</summary>
public sealed record ConsentTextResponse(
    [property: Description("Send this id with the sign-up: it names the version the reader saw.")] int Id,
    int Version,
    [property: Description("de or en.")] string Language,
    [property: Description("The consent statement next to the (unticked) checkbox.")] string Statement,
    [property: Description("The Art. 13 information shown on the form.")] string PrivacyInformation,
    string PrivacyNoticeUrl,
    string PrivacyNoticeVersion,
    [property: Description("The Art. 21 objection note, shown apart from the statement.")] string ObjectionNote,
    string Impressum,
    [property: Description("SHA-256 of the version as stored; the consent record carries it.")] string Sha256);

public sealed record SignUpRequestBody(
    [property: Description("The reader's email address.")] string? Email,
    [property: Description("The id of the consent-text version the reader saw (GET …/consent-text); it must be the current one.")] int? ConsentTextId,
    [property: Description("The reader ticked the consent box themselves (unticked by default); must be true.")] bool? Consent,
    [property: Description("The reader confirmed being 16 or older; must be true.")] bool? AgeConfirmed,
    [property: Description("The reader's IP address as the portal saw it (IPv4 or IPv6); stored as proof and rate-limited per network.")] string? ReaderIp,
    [property: Description("The reader's browser user agent; stored as proof.")] string? ReaderUserAgent,
    [property: Description("de or en for the confirmation mail; default: the consent text's language.")] string? Language = null);

/// <summary>The same answer for a new, pending, confirmed or suppressed address (C30).</summary>
public sealed record SignUpAccepted(
    [property: Description("Always 'accepted': whether a mail goes out is not told, so nobody learns who is subscribed.")] string Status,
    string Message);

public sealed record AddressRequest([property: Description("The email address.")] string? Email);
