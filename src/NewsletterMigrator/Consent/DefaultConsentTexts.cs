using System.Globalization;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;
using NewsletterMigrator.Subscribers;

namespace NewsletterMigrator.Consent;

/// <summary>
/// The consent statement (C2) and the Art. 13 text (C3, C40) built from the newsletter's settings and this
/// installation's options. Every sentence is true for this installation: the retention periods are the ones
/// <see cref="RetentionService"/> applies, the processors are the configured ones, the data protection officer
/// and the supervisory authority appear only when set. Editors may replace the text; while they have not,
/// it follows the settings (see <see cref="ConsentTextService"/>).
/// </summary>
public sealed class DefaultConsentTexts(IOptions<PrivacyOptions> privacy, IOptions<RetentionOptions> retention, IOptions<SmtpOptions> smtp)
{
    private const string Meta = "WhatsApp Ireland Ltd. (Meta), Dublin, Irland";
    private const string MetaEn = "WhatsApp Ireland Ltd. (Meta), Dublin, Ireland";

    /// <summary>The consent statement (C2): it names the controller by its legal name once that is set.</summary>
    public static string Statement(Newsletter n, string language) => language == "en"
        ? $"Yes, I would like to receive the email newsletter \"{n.Name}\" from {StatementSender(n)} with breaking news and the most important stories of the day, up to several times a day. I can withdraw this consent at any time, for example through the unsubscribe link in every email."
        : $"Ja, ich möchte den E-Mail-Newsletter „{n.Name}“ von {StatementSender(n)} mit Eilmeldungen und den wichtigsten Nachrichten des Tages erhalten, bis zu mehrmals täglich. Diese Einwilligung kann ich jederzeit widerrufen, zum Beispiel über den Abmeldelink in jeder E-Mail.";

    private static string StatementSender(Newsletter n) => Has(n.ControllerName) ? n.ControllerName.Trim() : n.SenderName;

    /// <param name="invitationLegalBases">The legal bases recorded with the newsletter's imports (C36), for the invitation paragraph.</param>
    public string Privacy(Newsletter n, string language, IReadOnlyCollection<InvitationLegalBasis> invitationLegalBases) =>
        string.Join("\n", language == "en" ? English(n, invitationLegalBases) : German(n, invitationLegalBases));

    private IEnumerable<string> German(Newsletter n, IReadOnlyCollection<InvitationLegalBasis> bases)
    {
        var r = retention.Value;
        yield return $"Verantwortlich: {Controller(n)}";
        if (Has(n.DataProtectionOfficer)) yield return $"Datenschutzbeauftragte/r: {OneLine(n.DataProtectionOfficer)}";
        yield return "Zweck und Rechtsgrundlage: Wir verwenden Ihre E-Mail-Adresse, um Ihnen den bestellten Newsletter zu senden; Rechtsgrundlage ist Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO). "
                     + "Als Nachweis der Einwilligung speichern wir Zeitpunkt, IP-Adresse und Browserkennung Ihrer Anmeldung und Bestätigung sowie den Text, dem Sie zugestimmt haben. "
                     + "Diesen Nachweis bewahren wir auch nach einem Widerruf auf, weil wir die Einwilligung nachweisen müssen (Art. 6 Abs. 1 lit. c in Verbindung mit Art. 7 Abs. 1 DSGVO) "
                     + "und um Ansprüche abwehren zu können (Art. 6 Abs. 1 lit. f DSGVO).";
        yield return "WhatsApp-Einladung: Wenn wir Sie über WhatsApp zu diesem Newsletter eingeladen haben, haben wir dafür einmal Ihre Telefonnummer und Ihren Namen aus unserem früheren WhatsApp-Angebot verwendet"
                     + (bases.Count > 0 ? $"; Rechtsgrundlage: {string.Join("; ", bases.Select(b => OneLine(b.Text) + b.Article(german: true)))}." : ".")
                     + $" Sie können dem jederzeit widersprechen (Art. 21 DSGVO), z. B. per E-Mail an {n.ControllerEmail}.";
        yield return $"Empfänger: {MailRecipientGerman()} Die WhatsApp-Einladung wird über WhatsApp zugestellt; dabei erhält {Meta}, Ihre Telefonnummer.";
        if (ThirdCountryText("de") is { } transfers) yield return $"Übermittlung in Drittländer: {transfers}";
        yield return "Speicherdauer: Ihre E-Mail-Adresse und den Nachweis speichern wir, solange Sie den Newsletter beziehen. "
                     + $"Anmeldungen, die nicht bestätigt werden, löschen wir {DurationGerman(r.UnconfirmedAfter)} nach der letzten Bestätigungs-E-Mail. "
                     + $"Nach einer Abmeldung bewahren wir Adresse und Nachweis bis zum Ende {ProofPeriodGerman(r.ConsentProofYears)} auf (Verjährungsfrist, §§ 195, 199 BGB) und löschen sie dann; "
                     + "von einer nicht bestätigten oder auf Ihren Wunsch gelöschten Anmeldung bleibt bis dahin nur der Nachweis ohne Ihre Adresse. "
                     + "Nach einer Löschung auf Ihren Wunsch oder einem Widerspruch (z. B. „STOP“) halten wir einen mit einem geheimen Schlüssel gebildeten Prüfwert (Hash) Ihrer Adresse bzw. Ihrer Telefonnummer auf einer Sperrliste, damit wir Sie nicht versehentlich wieder anschreiben. "
                     + "Ihre Telefonnummer aus der WhatsApp-Einladung löschen wir, sobald Sie Ihre Anmeldung bestätigen"
                     + "; alle übrigen Nummern, Namen und Prüfwerte von Nummern nach dem Ende der Umstellung"
                     + (n.MigrationEndsAtUtc is { } end ? $" am {BerlinDate(end, "de")}. " : ". ")
                     + $"In unseren Versandprotokollen löschen wir Empfängeradresse und Antwort des Mailservers {r.OutboxDays} {(r.OutboxDays == 1 ? "Tag" : "Tage")} nach dem Versand. "
                     + "Die Löschungen laufen einmal täglich.";
        yield return "Ihre Rechte: Auskunft (Art. 15 DSGVO), Berichtigung (Art. 16), Löschung (Art. 17), Einschränkung der Verarbeitung (Art. 18), Datenübertragbarkeit (Art. 20) "
                     + "und Widerspruch gegen die Verwendung Ihrer Daten für Direktwerbung (Art. 21). "
                     + "Widerruf: Ihre Einwilligung können Sie jederzeit mit Wirkung für die Zukunft widerrufen (Art. 7 Abs. 3 DSGVO), z. B. über den Abmeldelink in jeder E-Mail.";
        yield return Has(n.SupervisoryAuthority)
            ? $"Beschwerde: Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO), für uns zuständig ist: {OneLine(n.SupervisoryAuthority)}."
            : "Beschwerde: Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO), insbesondere in dem Mitgliedstaat Ihres Aufenthalts, Ihres Arbeitsplatzes oder des mutmaßlichen Verstoßes.";
    }

    private IEnumerable<string> English(Newsletter n, IReadOnlyCollection<InvitationLegalBasis> bases)
    {
        var r = retention.Value;
        yield return $"Controller: {Controller(n)}";
        if (Has(n.DataProtectionOfficer)) yield return $"Data protection officer: {OneLine(n.DataProtectionOfficer)}";
        yield return "Purpose and legal basis: we use your email address to send you the newsletter you ordered; the legal basis is your consent (Art. 6(1)(a) GDPR). "
                     + "As proof of consent we store the time, IP address and browser identification of your sign-up and confirmation and the text you agreed to. "
                     + "We keep this proof after a withdrawal too, because we must be able to prove the consent (Art. 6(1)(c) with Art. 7(1) GDPR) "
                     + "and to defend against claims (Art. 6(1)(f) GDPR).";
        yield return "WhatsApp invitation: if we invited you to this newsletter via WhatsApp, we used your phone number and name from our former WhatsApp service once for that purpose"
                     + (bases.Count > 0 ? $"; legal basis: {string.Join("; ", bases.Select(b => OneLine(b.Text) + b.Article(german: false)))}." : ".")
                     + $" You may object to this at any time (Art. 21 GDPR), e.g. by email to {n.ControllerEmail}.";
        yield return $"Recipients: {MailRecipientEnglish()} The WhatsApp invitation is delivered through WhatsApp; {MetaEn} receives your phone number for this.";
        if (ThirdCountryText("en") is { } transfers) yield return $"Transfers to third countries: {transfers}";
        yield return "Retention: we keep your email address and the proof for as long as you receive the newsletter. "
                     + $"Sign-ups that are not confirmed are deleted {DurationEnglish(r.UnconfirmedAfter)} after the last confirmation email. "
                     + $"After you unsubscribe, we keep the address and the proof until the end of {ProofPeriodEnglish(r.ConsentProofYears)} (limitation period, §§ 195, 199 BGB) and then delete them; "
                     + "of a sign-up that was not confirmed or that was erased at your request, only the proof without your address remains until then. "
                     + "After an erasure at your request or an objection (e.g. \"STOP\") we keep a keyed hash of your address or phone number on a suppression list so that we never contact you again by mistake. "
                     + "We delete your phone number from the WhatsApp invitation as soon as you confirm your sign-up"
                     + "; all other numbers, names and hashes of numbers after the migration ends"
                     + (n.MigrationEndsAtUtc is { } end ? $" on {BerlinDate(end, "en")}. " : ". ")
                     + $"Our delivery logs lose the recipient address and the mail server's reply {r.OutboxDays} {(r.OutboxDays == 1 ? "day" : "days")} after sending. "
                     + "Deletion runs once a day.";
        yield return "Your rights: access (Art. 15 GDPR), rectification (Art. 16), erasure (Art. 17), restriction of processing (Art. 18), data portability (Art. 20) "
                     + "and objection to the use of your data for direct marketing (Art. 21). "
                     + "Withdrawal: you can withdraw your consent at any time with effect for the future (Art. 7(3) GDPR), e.g. through the unsubscribe link in every email.";
        yield return Has(n.SupervisoryAuthority)
            ? $"Complaints: you have the right to lodge a complaint with a data protection supervisory authority (Art. 77 GDPR); the authority responsible for us is: {OneLine(n.SupervisoryAuthority)}."
            : "Complaints: you have the right to lodge a complaint with a data protection supervisory authority (Art. 77 GDPR), in particular in the member state of your residence, place of work or of the alleged infringement.";
    }

    // Without a named provider (allowed outside Production) the sentence still has to be true:
    // the pickup folder keeps mail on this server; otherwise the SMTP host is all we know.
    private string MailRecipientGerman()
    {
        var o = privacy.Value;
        if (o.NamesMailProvider)
            return $"Den Versand der E-Mails übernimmt {o.MailProvider!.Trim()}{(Has(o.MailProviderCountry) ? $" ({o.MailProviderCountry!.Trim()})" : "")} in unserem Auftrag (Art. 28 DSGVO).";
        return smtp.Value.UsesPickup
            ? "Die E-Mails werden auf unserem Server abgelegt und an keinen E-Mail-Dienstleister übergeben."
            : $"Die E-Mails werden über den Mailserver {smtp.Value.Host!.Trim()} versandt.";
    }

    private string MailRecipientEnglish()
    {
        var o = privacy.Value;
        if (o.NamesMailProvider)
            return $"The emails are sent by {o.MailProvider!.Trim()}{(Has(o.MailProviderCountry) ? $" ({o.MailProviderCountry!.Trim()})" : "")} on our behalf (Art. 28 GDPR).";
        return smtp.Value.UsesPickup
            ? "The emails are stored on our server and passed to no email service provider."
            : $"The emails are sent through the mail server {smtp.Value.Host!.Trim()}.";
    }

    private string? ThirdCountryText(string language)
    {
        var o = privacy.Value;
        var text = language == "en" && Has(o.ThirdCountryTransfersEn) ? o.ThirdCountryTransfersEn : o.ThirdCountryTransfers;
        return Has(text) ? OneLine(text!) : null;
    }

    private static string Controller(Newsletter n) => Newsletters.ControllerLine.Of(n);

    // RetentionService deletes when the period has passed; whole days read as days, otherwise hours.
    private static string DurationGerman(TimeSpan t) =>
        t.Ticks % TimeSpan.TicksPerDay == 0 ? (t.TotalDays == 1 ? "einen Tag" : $"{t.TotalDays:0} Tage")
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? (t.TotalHours == 1 ? "eine Stunde" : $"{t.TotalHours:0} Stunden")
        : $"{Math.Ceiling(t.TotalMinutes):0} Minuten";

    private static string DurationEnglish(TimeSpan t) =>
        t.Ticks % TimeSpan.TicksPerDay == 0 ? (t.TotalDays == 1 ? "one day" : $"{t.TotalDays:0} days")
        : t.Ticks % TimeSpan.TicksPerHour == 0 ? (t.TotalHours == 1 ? "one hour" : $"{t.TotalHours:0} hours")
        : $"{Math.Ceiling(t.TotalMinutes):0} minutes";

    // RetentionService.ProofExpiresAtUtc: 1 January of year(last) + years + 1, i.e. the end of the years-th year after.
    private static readonly string[] GermanOrdinals = ["", "ersten", "zweiten", "dritten", "vierten", "fünften", "sechsten", "siebten", "achten", "neunten", "zehnten"];
    private static readonly string[] EnglishOrdinals = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];

    private static string ProofPeriodGerman(int years) => years == 0
        ? "des Jahres der letzten E-Mail an Sie oder Ihrer Abmeldung"
        : $"des {(years < GermanOrdinals.Length ? GermanOrdinals[years] : $"{years}.")} Kalenderjahres nach dem Jahr der letzten E-Mail an Sie oder Ihrer Abmeldung";

    private static string ProofPeriodEnglish(int years) => years == 0
        ? "the year of the last email to you or of your unsubscribing"
        : $"the {(years < EnglishOrdinals.Length ? EnglishOrdinals[years] : EnglishOrdinal(years))} calendar year after the year of the last email to you or of your unsubscribing";

    private static string EnglishOrdinal(int n) => n + ((n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });

    private static string BerlinDate(DateTime utc, string language) => language == "en"
        ? Berlin.ToLocal(utc).ToString("d MMMM yyyy", CultureInfo.GetCultureInfo("en-GB"))
        : Berlin.ToLocal(utc).ToString("dd.MM.yyyy", CultureInfo.InvariantCulture);

    private static bool Has(string? s) => !string.IsNullOrWhiteSpace(s);

    private static string OneLine(string s) =>
        string.Join(", ", s.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).TrimEnd('.');
}

/// <summary>An import's legal basis for the one invitation (C36): the editor's words and the article its kind stands for.</summary>
public sealed record InvitationLegalBasis(string Kind, string Text)
{
    /// <summary>" (Art. 6 …)" for the kinds that name one; "other" is explained in the editor's words alone.</summary>
    public string Article(bool german) => Kind switch
    {
        Importing.LegalBases.ExistingConsent => german ? " (Art. 6 Abs. 1 lit. a DSGVO)" : " (Art. 6(1)(a) GDPR)",
        Importing.LegalBases.LegitimateInterest => german ? " (Art. 6 Abs. 1 lit. f DSGVO)" : " (Art. 6(1)(f) GDPR)",
        _ => "",
    };
}
