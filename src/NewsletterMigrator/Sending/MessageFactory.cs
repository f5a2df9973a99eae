using System.Collections.Concurrent;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using MimeKit;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using static NewsletterMigrator.Sending.MailLayout;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Builds the MIME message for an outbox row. Links carrying tokens are derived here, at send time,
/// so the database never holds a usable token (C29).
/// </summary>
public sealed class MessageFactory(MailLayout layout, TokenService tokens, IOptions<AppOptions> app, IOptions<SendingOptions> sending, IStringLocalizer<SharedResource> text)
{
    // A campaign's body is rendered once per campaign, not once per recipient.
    private readonly ConcurrentDictionary<int, (string Html, string Text)> _campaignBodies = new();

    /// <summary>The DOI mail from its wording (<see cref="DoiText"/>), which the caller keeps for the hash of what was sent (C43).</summary>
    public MimeMessage DoubleOptIn(OutboundMessage row, Newsletter newsletter, Subscriber subscriber, DoiMailText doi)
    {
        var confirmUrl = app.Value.Link($"confirm/{tokens.Create(TokenPurpose.Confirm, subscriber.Id, subscriber.ConfirmGeneration)}");
        using var culture = new CultureScope(row.Language);
        var message = Envelope(row, newsletter, doi.Subject);
        message.Body = new BodyBuilder
        {
            TextBody = doi.Plain(confirmUrl),
            HtmlBody = layout.Html(newsletter, doi.Subject, doi.BodyHtml(confirmUrl), doi.FooterHtml),
        }.ToMessageBody();
        return message;
    }

    /// <summary>
    /// The DOI mail's wording in <paramref name="language"/>, with the link's validity in Berlin time (C39).
    /// The sign-up hashes exactly this (C43); bump <c>SignUpService.DoiTemplateVersion</c> when it changes.
    /// </summary>
    public DoiMailText DoiText(Newsletter newsletter, string language, DateTime? confirmLinkExpiresAtUtc)
    {
        using var culture = new CultureScope(language);
        var (footerHtml, footerText) = layout.Footer(newsletter, unsubscribeUrl: null);
        return new DoiMailText(
            text["Doi_Subject", newsletter.Name],
            text["Doi_Request", newsletter.Name],
            text["Doi_ConfirmButton"],
            text["Doi_LinkFallback"],
            confirmLinkExpiresAtUtc is { } expires ? text["Doi_ValidUntil", Berlin.Format(expires)].Value : null,
            text["Doi_Ignore"],
            footerHtml,
            footerText);
    }

    public MimeMessage Newsletter(OutboundMessage row, Newsletter newsletter, Campaign campaign, Subscriber? subscriber)
    {
        using var culture = new CultureScope(row.Language);
        var body = Body(campaign);
        var subject = row.Kind == MessageKind.Test ? $"[{text["Test"]}] {campaign.Subject}" : campaign.Subject;
        var viewUrl = IssueUrl(newsletter, campaign);
        return NewsletterMail(row, newsletter, subscriber, subject, CampaignFrame(newsletter, campaign, row.Language, body.Html, viewUrl),
            layout.ViewInBrowserText(viewUrl) + body.Text);
    }

    /// <summary>
    /// What every mail to a subscriber as such carries (a campaign, its test, the welcome): the personal unsubscribe and
    /// manage links with the Art. 21 note and the Impressum in the footer (C22, C4, C25), the one-click and List-Id headers
    /// (C21, C23), and the plain-text part beside the HTML (C23). In the current culture: the reader's language.
    /// <paramref name="frame"/> holds the inlined HTML and the footer text with markers for the personal links (<see cref="Frame"/>).
    /// </summary>
    private MimeMessage NewsletterMail(OutboundMessage row, Newsletter newsletter, Subscriber? subscriber, string subject, MailFrame frame, string bodyText)
    {
        // A test mail has no subscriber: its unsubscribe link leads to a page that explains it was a test.
        var token = subscriber is null ? "test" : tokens.Create(TokenPurpose.Unsubscribe, subscriber.Id, subscriber.TokenGeneration);
        var unsubscribeUrl = app.Value.Link($"u/{token}");
        var manageUrl = app.Value.Link($"manage/{token}");
        var message = Envelope(row, newsletter, subject);
        // RFC 8058 one-click unsubscribe (C21) and RFC 2919 List-Id (C23).
        message.Headers.Add("List-Unsubscribe", ListUnsubscribe(unsubscribeUrl, token));
        message.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        message.Headers.Add(HeaderId.ListId, $"{newsletter.Name.Replace('"', '\'')} <{newsletter.Slug}.{app.Value.BaseUri.Host}>");
        message.Body = new BodyBuilder
        {
            TextBody = $"{bodyText}\n\n-- \n{WithLinks(frame.FooterText, unsubscribeUrl, manageUrl)}",
            HtmlBody = WithLinks(frame.Html, Enc(unsubscribeUrl), Enc(manageUrl)),
        }.ToMessageBody();
        return message;
    }

    /// <summary>
    /// A mail to a subscriber with its styles inlined, and its footer's text, with markers where the reader's own links go
    /// (<see cref="NewsletterMail"/>): the footer is built with the frame, not once per mail.
    /// </summary>
    private sealed record MailFrame(string Html, string FooterText);

    private MailFrame Frame(Newsletter newsletter, string preheader, string bodyHtml, string? viewUrl)
    {
        var (footerHtml, footerText) = layout.Footer(newsletter, UnsubscribeMarker, ManageMarker);
        return new MailFrame(layout.Html(newsletter, preheader, bodyHtml, footerHtml, viewUrl), footerText);
    }

    /// <summary>A mail to a subscriber as the editor's previews show it, with links to the test pages in place of a reader's.</summary>
    private string PreviewFrame(Newsletter newsletter, string preheader, string bodyHtml, string? viewUrl) =>
        WithLinks(Frame(newsletter, preheader, bodyHtml, viewUrl).Html, Enc(app.Value.Link("u/test")), Enc(app.Value.Link("manage/test")));

    private static string WithLinks(string frame, string unsubscribeUrl, string manageUrl) => frame
        .Replace(UnsubscribeMarker, unsubscribeUrl, StringComparison.Ordinal)
        .Replace(ManageMarker, manageUrl, StringComparison.Ordinal);

    // A campaign's HTML with its styles inlined, and markers where each reader's own links go. Inlining parses the
    // whole mail, so a started campaign's frame is made once per language and newsletter settings, not once per mail.
    private const string UnsubscribeMarker = "https://unsubscribe.marker.invalid/";
    private const string ManageMarker = "https://manage.marker.invalid/";
    private readonly ConcurrentDictionary<(int Campaign, string Language, int Settings), MailFrame> _campaignFrames = new();

    private MailFrame CampaignFrame(Newsletter newsletter, Campaign campaign, string language, string bodyHtml, string? viewUrl) =>
        campaign.BodyHtml is null
            ? Frame(newsletter, campaign.Preheader, bodyHtml, viewUrl)
            : _campaignFrames.GetOrAdd((campaign.Id, language, FrameSettings(newsletter, viewUrl)), _ => Frame(newsletter, campaign.Preheader, bodyHtml, viewUrl));

    // What of the newsletter shows in a campaign's frame: a change to any of it (a new logo during a long send) makes a new frame.
    private static int FrameSettings(Newsletter n, string? viewUrl)
    {
        var hash = new HashCode();
        foreach (var value in (ReadOnlySpan<string?>)[n.Name, n.BrandColour, n.BrandFooter, n.LogoSha256, n.LogoSvg ? "svg" : "png", n.LogoMailWidth.ToString(), n.SenderName, n.SenderAddress,
            n.ControllerName, n.ControllerAddress, n.ControllerEmail, n.Impressum, n.ImpressumUrl, viewUrl])
            hash.Add(value, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    /// <summary>
    /// The public copy of an issue in the newsletter's archive, for the "view in browser" link; null while it has none
    /// (<see cref="ArchiveAddress.PublicIssuePath"/>). The copy carries no personal link.
    /// </summary>
    private string? IssueUrl(Newsletter newsletter, Campaign campaign) =>
        ArchiveAddress.PublicIssuePath(newsletter, campaign) is { } path ? app.Value.Link(path) : null;

    /// <summary>
    /// The welcome after a confirmed DOI (issue 21): a newsletter mail like a campaign (<see cref="NewsletterMail"/>), the
    /// editor's Markdown rendered and sanitised, then the archive's latest issues when the newsletter lists some. Never part
    /// of the DOI mail, which stays neutral (C8).
    /// </summary>
    public MimeMessage Welcome(OutboundMessage row, Newsletter newsletter, Subscriber subscriber, IReadOnlyList<ArchivedIssue> latest)
    {
        using var culture = new CultureScope(row.Language);
        var (subject, html, plain) = WelcomeBody(newsletter, row.Language, latest);
        return NewsletterMail(row, newsletter, subscriber, subject, Frame(newsletter, subject, html, viewUrl: null), plain);
    }

    /// <summary>
    /// The welcome's HTML as a reader of <paramref name="language"/> sees it, for the settings page's preview; with
    /// <paramref name="dark"/> as a mail client in dark mode shows it.
    /// </summary>
    public string WelcomePreviewHtml(Newsletter newsletter, string language, IReadOnlyList<ArchivedIssue> latest, bool dark = false)
    {
        using var culture = new CultureScope(language);
        var (subject, html, _) = WelcomeBody(newsletter, language, latest);
        var preview = PreviewFrame(newsletter, subject, html, viewUrl: null);
        return dark ? MailInliner.AsDark(preview) : preview;
    }

    private (string Subject, string Html, string Text) WelcomeBody(Newsletter newsletter, string readerLanguage, IReadOnlyList<ArchivedIssue> latest)
    {
        var welcome = WelcomeText.For(newsletter, readerLanguage);
        using var culture = new CultureScope(welcome.Language);
        var subject = welcome.Subject.Length > 0 ? welcome.Subject : text["Welcome_DefaultSubject", newsletter.Name].Value;
        var html = new System.Text.StringBuilder(MarkdownRenderer.ToHtml(welcome.Markdown));
        var plain = new System.Text.StringBuilder(welcome.Markdown.Trim());
        if (latest.Count > 0)
        {
            var heading = text["Welcome_LatestIssues"].Value;
            html.Append($"""<h2>{Enc(heading)}</h2><ul>""");
            plain.Append($"\n\n{heading}:\n");
            foreach (var issue in latest)
            {
                var date = Berlin.ToLocal(issue.SentAtUtc).ToString(welcome.Language == "en" ? "d MMMM yyyy" : "d. MMMM yyyy", System.Globalization.CultureInfo.CurrentCulture);
                html.Append($"""<li><a href="{Enc(issue.Url)}">{Enc(issue.Subject)}</a> <span class="issue-date">({Enc(date)})</span></li>""");
                plain.Append($"- {issue.Subject} ({date})\n  {issue.Url}\n");
            }
            html.Append("</ul>");
        }
        // English readers of a German-only welcome: the frame says "en", the text says what it is (screen readers).
        var body = welcome.Language == Languages.Normalize(readerLanguage) ? html.ToString() : $"""<div lang="{welcome.Language}">{html}</div>""";
        return (subject, body, plain.ToString().TrimEnd());
    }

    /// <summary>
    /// The https link first (RFC 8058 one-click, what providers use), then the mailto for clients that only
    /// know mail (RFC 2369), when <c>Sending:UnsubscribeMailbox</c> is set. The token in the subject lets
    /// whoever handles that mailbox find the reader without trusting the sender address.
    /// </summary>
    private string ListUnsubscribe(string unsubscribeUrl, string token) => _unsubscribeMailto is { } mailto
        ? $"<{unsubscribeUrl}>, <mailto:{mailto}?subject=unsubscribe-{token}>"
        : $"<{unsubscribeUrl}>";

    // Validated at start-up; the local part is percent-encoded as a mailto URI requires (RFC 6068).
    private readonly string? _unsubscribeMailto = EmailAddress.TryNormalize(sending.Value.UnsubscribeMailbox, out var address)
        ? Uri.EscapeDataString(address[..address.LastIndexOf('@')]) + address[address.LastIndexOf('@')..]
        : null;

    /// <summary>The short-lived link to export, change of address and erasure, sent only to the subscribed address (C33).</summary>
    public MimeMessage AccessLink(OutboundMessage row, Newsletter newsletter, Subscriber subscriber)
    {
        using var culture = new CultureScope(row.Language);
        var url = app.Value.Link($"manage/access/{tokens.Create(TokenPurpose.Access, subscriber.Id, subscriber.AccessGeneration)}");
        return LinkMail(row, newsletter, text["Access_MailSubject", newsletter.Name], text["Access_MailText", newsletter.Name],
            text["Access_MailButton"], url, text["Access_MailIgnore"]);
    }

    /// <summary>The DOI for a new address: neutral like the first one (C8); the old address stays until this is confirmed.</summary>
    public MimeMessage AddressChange(OutboundMessage row, Newsletter newsletter, Subscriber subscriber)
    {
        using var culture = new CultureScope(row.Language);
        var url = app.Value.Link($"manage/change/{tokens.Create(TokenPurpose.AddressChange, subscriber.Id, subscriber.ChangeGeneration)}");
        return LinkMail(row, newsletter, text["Change_MailSubject", newsletter.Name], text["Change_MailText", newsletter.Name],
            text["Change_MailButton"], url, text["Doi_Ignore"]);
    }

    /// <summary>
    /// The alert to an admin that the WhatsApp queue paused by itself (template, quality, account, objections, refusals): what
    /// happened, since when, and the page to look at. Built from the pause as it stands when the mail goes.
    /// </summary>
    public MimeMessage WhatsAppPaused(OutboundMessage row, Newsletter newsletter, WhatsAppAccount pause)
    {
        using var culture = new CultureScope(row.Language);
        var reason = Inviting.WhatsAppStateText.PauseKind(pause.PauseKind, text);
        var intro = text["WaAlert_MailText", Berlin.Format(pause.PausedAtUtc), reason, pause.PauseDetail ?? ""];
        return LinkMail(row, newsletter, text["WaAlert_MailSubject", reason], intro, text["WaAlert_MailButton"],
            app.Value.Link($"admin/whatsapp/{row.NewsletterId}"), text["WaAlert_MailWhy"]);
    }

    /// <summary>
    /// The note to an editor that a feed's campaign waits as a draft for approval (issue 19): its subject and the page with
    /// the one-click approval. Sent only while the draft still waits (the worker checks).
    /// </summary>
    public MimeMessage FeedDraftWaiting(OutboundMessage row, Newsletter newsletter, Campaign draft)
    {
        using var culture = new CultureScope(row.Language);
        return LinkMail(row, newsletter, text["FeedDraft_MailSubject", draft.Subject], text["FeedDraft_MailText", newsletter.Name, draft.Subject],
            text["FeedDraft_MailButton"], app.Value.Link($"admin/campaigns/{row.NewsletterId}/edit/{draft.Id}"), text["FeedDraft_MailWhy"]);
    }

    private MimeMessage LinkMail(OutboundMessage row, Newsletter newsletter, string subject, string intro, string button, string url, string ignore)
    {
        var (footerHtml, footerText) = layout.Footer(newsletter, unsubscribeUrl: null);
        var bodyHtml = $"""
            <p>{Enc(intro)}</p>
            {Button(url, button)}
            <p>{Enc(text["Doi_LinkFallback"])}<br><a href="{Enc(url)}">{Enc(url)}</a></p>
            <p>{Enc(ignore)}</p>
            """;
        var message = Envelope(row, newsletter, subject);
        message.Body = new BodyBuilder
        {
            TextBody = $"{intro}\n\n{button}:\n{url}\n\n{ignore}\n\n-- \n{footerText}",
            HtmlBody = layout.Html(newsletter, subject, bodyHtml, footerHtml),
        }.ToMessageBody();
        return message;
    }
    /// <summary>
    /// The HTML exactly as a reader sees it (layout, header, unsubscribe link, Impressum), for the editor's preview; with
    /// <paramref name="dark"/> as a mail client in dark mode shows it.
    /// </summary>
    public string PreviewHtml(Newsletter newsletter, Campaign campaign, string language, bool dark = false)
    {
        using var culture = new CultureScope(language);
        var html = PreviewFrame(newsletter, campaign.Preheader, Body(campaign).Html, IssueUrl(newsletter, campaign));
        return dark ? MailInliner.AsDark(html) : html;
    }

    // A started campaign's body is fixed and cached; a draft can still change (test mails, preview), so it is rendered afresh.
    private (string Html, string Text) Body(Campaign campaign) => campaign.BodyHtml is null
        ? (MarkdownRenderer.ToHtml(campaign.BodyMarkdown), campaign.BodyMarkdown)
        : _campaignBodies.GetOrAdd(campaign.Id, _ => (campaign.BodyHtml, campaign.BodyMarkdown));

    public void ForgetCampaign(int campaignId)
    {
        _campaignBodies.TryRemove(campaignId, out _);
        foreach (var key in _campaignFrames.Keys)
            if (key.Campaign == campaignId) _campaignFrames.TryRemove(key, out _);
    }

    private static MimeMessage Envelope(OutboundMessage row, Newsletter newsletter, string subject)
    {
        var message = new MimeMessage
        {
            MessageId = row.MessageId,
            Date = DateTimeOffset.UtcNow,
            Subject = subject,
        };
        message.From.Add(new MailboxAddress(newsletter.SenderName, newsletter.SenderAddress));
        if (!string.IsNullOrWhiteSpace(newsletter.ReplyTo)) message.ReplyTo.Add(MailboxAddress.Parse(newsletter.ReplyTo));
        message.To.Add(MailboxAddress.Parse(row.ToAddress));
        return message;
    }
}
