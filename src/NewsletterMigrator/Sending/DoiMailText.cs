using System.Security.Cryptography;
using System.Text;
using static NewsletterMigrator.Sending.MailLayout;

namespace NewsletterMigrator.Sending;

/// <summary>
/// The wording of the DOI mail, in one place: the mail builder renders it with the confirm link, and the
/// sign-up and the worker hash it without the link (C43), so what was sent can be re-derived from template version,
/// newsletter settings and link expiry. Neutral by design (C8): the request, the link, how long it is
/// valid, "ignore this if it wasn't you", and the footer with sender, controller and Impressum (C39).
/// Built by <see cref="MessageFactory.DoiText"/> in the reader's language.
/// </summary>
public sealed record DoiMailText(
    string Subject,
    string Request,
    string Button,
    string LinkFallback,
    string? ValidUntil,
    string Ignore,
    string FooterHtml,
    string FooterText)
{
    /// <summary>The plain-text part. With <paramref name="confirmUrl"/> empty this is exactly the hashed text.</summary>
    public string Plain(string confirmUrl)
    {
        var text = new StringBuilder();
        text.Append(Request).Append("\n\n").Append(Button).Append(":\n").Append(confirmUrl).Append("\n\n");
        if (ValidUntil is not null) text.Append(ValidUntil).Append("\n\n");
        text.Append(Ignore).Append("\n\n-- \n").Append(FooterText);
        // One line-ending convention, so the hash does not depend on where the text was built.
        return text.ToString().ReplaceLineEndings("\n");
    }

    /// <summary>The HTML body (inside <see cref="MailLayout.Html"/>); the same sentences as <see cref="Plain"/>.</summary>
    public string BodyHtml(string confirmUrl) => $"""
        <p>{Enc(Request)}</p>
        {MailLayout.Button(confirmUrl, Button)}
        <p>{Enc(LinkFallback)}<br><a href="{Enc(confirmUrl)}">{Enc(confirmUrl)}</a></p>
        {(ValidUntil is null ? "" : $"<p>{Enc(ValidUntil)}</p>")}
        <p>{Enc(Ignore)}</p>
        """;

    /// <summary>
    /// SHA-256 (hex, lower case) of <see cref="Plain"/> with the confirm link left out, as stored on the
    /// DoiQueued (meant) and DoiSent (as sent) ledger entries. To check a sent mail: take its text part, remove the link line's URL (keep
    /// the empty line), use LF line endings, hash UTF-8.
    /// </summary>
    public string Sha256() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Plain(""))));
}
