using NewsletterMigrator.Data;

namespace NewsletterMigrator.Testing;

/// <summary>The legal identity a newsletter needs before it goes live (C38), as a portal would fill it in.</summary>
public static class LegalIdentity
{
    public const string ControllerName = "Tagblatt Verlag GmbH";
    public const string ControllerAddress = "Musterstraße 1, 12345 Musterstadt";
    public const string ControllerEmail = "datenschutz@tagblatt.example.test";
    public const string ImpressumText = "Tagblatt Verlag GmbH, Musterstraße 1, 12345 Musterstadt. Verantwortlich i. S. d. §18 Abs. 2 MStV: Erika Mustermann";
    public const string PrivacyUrl = "https://tagblatt.example.test/datenschutz";
    public const string PrivacyVersion = "2026-11";

    /// <summary>Fills whatever of the legal identity the newsletter does not set itself.</summary>
    public static Newsletter Complete(this Newsletter n)
    {
        if (string.IsNullOrEmpty(n.ControllerName)) n.ControllerName = ControllerName;
        if (string.IsNullOrEmpty(n.ControllerAddress)) n.ControllerAddress = ControllerAddress;
        if (string.IsNullOrEmpty(n.ControllerEmail)) n.ControllerEmail = ControllerEmail;
        if (string.IsNullOrEmpty(n.Impressum) && string.IsNullOrEmpty(n.ImpressumUrl)) n.Impressum = ImpressumText;
        if (string.IsNullOrEmpty(n.PrivacyNoticeUrl)) n.PrivacyNoticeUrl = PrivacyUrl;
        if (string.IsNullOrEmpty(n.PrivacyNoticeVersion)) n.PrivacyNoticeVersion = PrivacyVersion;
        return n;
    }

    /// <summary>The settings form's legal fields, filled in as an admin would.</summary>
    public static Dictionary<string, string> WithLegalIdentity(this Dictionary<string, string> form)
    {
        form["Input.ControllerName"] = ControllerName;
        form["Input.ControllerAddress"] = ControllerAddress;
        form["Input.ControllerEmail"] = ControllerEmail;
        form.TryAdd("Input.Impressum", ImpressumText);
        form.TryAdd("Input.PrivacyNoticeUrl", PrivacyUrl);
        form["Input.PrivacyNoticeVersion"] = PrivacyVersion;
        return form;
    }
}
