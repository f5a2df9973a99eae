using NewsletterMigrator.Data;

namespace NewsletterMigrator.Consent;

/// <summary>Starting texts for a new newsletter that meet C2, C3 and C4; the admin adapts them to the portal.</summary>
public static class DefaultConsentTexts
{
    public static (string Statement, string Privacy) For(Newsletter n, string language) => language == "en"
        ? ($"""
           Yes, I would like to receive the email newsletter "{n.Name}" from {n.SenderName} with breaking news and the most important stories of the day, up to several times a day. I can withdraw this consent at any time, for example through the unsubscribe link in every email.
           """,
           $"""
           Controller: {n.SenderName}, {n.SenderAddress} (see the Impressum below). Data protection officer: reachable at the same address.
           Purpose: sending the newsletter you ordered; legal basis: your consent, Art. 6(1)(a) GDPR.
           Data: your email address, and as proof of consent the time, IP address, browser and the text you agreed to. Your phone number from the former WhatsApp newsletter is deleted once you confirm.
           Recipients: our email service provider, who processes the data on our behalf.
           Retention: until you unsubscribe; the proof of consent for three more years (statute of limitations).
           Your rights: access, rectification, erasure, restriction, data portability, and withdrawal of consent at any time with effect for the future. You may object to the use of your data for direct marketing at any time (Art. 21 GDPR). You have the right to lodge a complaint with a data protection supervisory authority.
           """)
        : ($"""
           Ja, ich möchte den E-Mail-Newsletter „{n.Name}“ von {n.SenderName} mit Eilmeldungen und den wichtigsten Nachrichten des Tages erhalten, bis zu mehrmals täglich. Diese Einwilligung kann ich jederzeit widerrufen, zum Beispiel über den Abmeldelink in jeder E-Mail.
           """,
           $"""
           Verantwortlich: {n.SenderName}, {n.SenderAddress} (siehe Impressum unten). Datenschutzbeauftragte/r: erreichbar unter derselben Adresse.
           Zweck: Versand des bestellten Newsletters; Rechtsgrundlage: Ihre Einwilligung, Art. 6 Abs. 1 lit. a DSGVO.
           Daten: Ihre E-Mail-Adresse, als Nachweis der Einwilligung Zeitpunkt, IP-Adresse, Browser und der Text, dem Sie zugestimmt haben. Ihre Telefonnummer aus dem früheren WhatsApp-Newsletter wird gelöscht, sobald Sie bestätigen.
           Empfänger: unser E-Mail-Dienstleister, der die Daten in unserem Auftrag verarbeitet.
           Speicherdauer: bis zur Abmeldung; der Nachweis der Einwilligung drei weitere Jahre (Verjährungsfrist).
           Ihre Rechte: Auskunft, Berichtigung, Löschung, Einschränkung, Datenübertragbarkeit sowie jederzeitiger Widerruf der Einwilligung mit Wirkung für die Zukunft. Sie können der Verwendung Ihrer Daten für Direktwerbung jederzeit widersprechen (Art. 21 DSGVO). Sie haben das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren.
           """);
}
