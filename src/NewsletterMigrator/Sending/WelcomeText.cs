using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Sending;

/// <summary>
/// Which of the welcome's texts a reader gets (issue 21). English readers get the English text when there is one, else the
/// German text with its German subject: a mail is in one language, not an English subject over a German body. The subject
/// left empty becomes the resx default of that language ("Willkommen beim …" / "Welcome to …"). The footer (unsubscribe,
/// Impressum) is in the reader's own language either way, as for campaigns.
/// </summary>
public readonly record struct WelcomeText(string Language, string Subject, string Markdown)
{
    public static WelcomeText For(Newsletter newsletter, string readerLanguage) =>
        Languages.Normalize(readerLanguage) == "en" && !string.IsNullOrWhiteSpace(newsletter.WelcomeMarkdownEn)
            ? new WelcomeText("en", newsletter.WelcomeSubjectEn.Trim(), newsletter.WelcomeMarkdownEn)
            : new WelcomeText("de", newsletter.WelcomeSubject.Trim(), newsletter.WelcomeMarkdown);
}
