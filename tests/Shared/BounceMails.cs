namespace NewsletterMigrator.Testing;

/// <summary>
/// Mails as they arrive in a bounce mailbox, after the RFCs' own examples: a delivery status notification (RFC 3464) for a
/// permanent and for a temporary failure, a feedback-loop complaint (RFC 5965 ARF), an out-of-office reply (RFC 3834),
/// a reply to the mailto: unsubscribe address and a reader's plain question. <paramref name="n"/> makes each one unique
/// (its Message-ID, the recipient and the returned mail's), as no two real reports are byte for byte the same.
/// Used by the mailbox reader's tests and the bounces benchmark.
/// </summary>
public static class BounceMails
{
    public const string Domain = "news.example.test";

    public static string HardBounce(int n) =>
        HardBounce(n, $"bounce+h{n:D6}@{Domain}", $"leser{n:D6}@example.org", $"campaign-{n}@{Domain}", $"Mon, 2 Mar 2026 09:14:{n % 60:D2} +0100");

    /// <summary>A permanent failure for <paramref name="recipient"/>, returned to <paramref name="returnPath"/> (a VERP address) with the headers of the mail <paramref name="messageId"/>.</summary>
    public static string HardBounce(int n, string returnPath, string recipient, string messageId, string date) => $"""
        Return-Path: <>
        Delivered-To: {returnPath}
        Received: from mx.example.org (mx.example.org [192.0.2.25]) by mail.{Domain} with ESMTPS id 4Yx{n:D6}; {date}
        Date: {date}
        From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
        To: {returnPath}
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <dsn-hard-{n}@mx.example.org>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-{n}"

        --dsn-{n}
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.example.org.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <{recipient}>: host mx.example.org[192.0.2.25] said: 550 5.1.1
            <{recipient}>: Recipient address rejected: User unknown in
            virtual mailbox table (in reply to RCPT TO command)

        --dsn-{n}
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.org
        X-Postfix-Queue-ID: 4Yx{n:D6}
        Arrival-Date: Mon, 2 Mar 2026 09:14:01 +0100

        Final-Recipient: rfc822; {recipient}
        Original-Recipient: rfc822;{recipient}
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx.example.org
        Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address
            rejected: User unknown in virtual mailbox table

        --dsn-{n}
        Content-Type: text/rfc822-headers

        Return-Path: <{returnPath}>
        From: Tagblatt <newsletter@{Domain}>
        To: {recipient}
        Subject: Eilmeldung: Brücke gesperrt
        Message-ID: <{messageId}>
        Date: Mon, 2 Mar 2026 09:13:58 +0100

        --dsn-{n}--
        """;

    public static string SoftBounce(int n) =>
        SoftBounce(n, $"bounce+s{n:D6}@{Domain}", $"abonnent{n:D6}@example.net", $"campaign-soft-{n}@{Domain}", $"Tue, 3 Mar 2026 06:02:{n % 60:D2} +0100");

    /// <summary>A full mailbox (4.2.2) at <paramref name="recipient"/>, returned to <paramref name="returnPath"/> with the mail <paramref name="messageId"/>; the report's <paramref name="date"/> decides the day it counts on.</summary>
    public static string SoftBounce(int n, string returnPath, string recipient, string messageId, string date) => $"""
        Return-Path: <>
        Delivered-To: {returnPath}
        Date: {date}
        From: MAILER-DAEMON@mail.example.net
        To: {returnPath}
        Subject: Delivery Status Notification (Failure)
        Message-ID: <dsn-soft-{n}@mail.example.net>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="soft-{n}"

        --soft-{n}
        Content-Type: text/plain; charset=utf-8

        Delivery to the following recipient failed permanently after 3 days:

             {recipient}

        The recipient's mailbox is full and can't accept messages now.

        --soft-{n}
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.example.net

        Final-Recipient: rfc822; {recipient}
        Action: failed
        Status: 4.2.2
        Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

        --soft-{n}
        Content-Type: message/rfc822

        From: Tagblatt <newsletter@{Domain}>
        To: {recipient}
        Subject: Ihr Morgenbriefing
        Message-ID: <{messageId}>
        Date: Mon, 2 Mar 2026 06:00:00 +0100

        Guten Morgen!

        --soft-{n}--
        """;

    public static string Complaint(int n) =>
        Complaint(n, $"bounce+c{n:D6}@{Domain}", $"kundin{n:D6}@example.com", $"campaign-arf-{n}@{Domain}", $"Wed, 4 Mar 2026 18:41:{n % 60:D2} +0000");

    /// <summary>
    /// A feedback loop's report about the mail <paramref name="messageId"/> to <paramref name="recipient"/>. With
    /// <paramref name="returnPath"/> null the attached mail lacks its Return-Path (many loops strip it), so only the
    /// Message-ID names the mail.
    /// </summary>
    public static string Complaint(int n, string? returnPath, string recipient, string messageId, string date) => $"""
        Return-Path: <fbl@feedback.example.com>
        Delivered-To: fbl@{Domain}
        Date: {date}
        From: Feedback Loop <fbl@feedback.example.com>
        To: fbl@{Domain}
        Subject: FW: Eilmeldung: Brücke gesperrt
        Message-ID: <arf-{n}@feedback.example.com>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=feedback-report; boundary="arf-{n}"

        --arf-{n}
        Content-Type: text/plain; charset="US-ASCII"
        Content-Transfer-Encoding: 7bit

        This is an email abuse report for an email message received from IP
        198.51.100.7 on Wed, 4 Mar 2026 18:40:12 +0000.

        --arf-{n}
        Content-Type: message/feedback-report

        Feedback-Type: abuse
        User-Agent: ExampleFBL/1.0
        Version: 1
        Original-Mail-From: <{returnPath ?? "newsletter@" + Domain}>
        Original-Rcpt-To: <{recipient}>
        Arrival-Date: Wed, 4 Mar 2026 18:40:12 +0000
        Reported-Domain: {Domain}
        Source-IP: 198.51.100.7

        --arf-{n}
        Content-Type: message/rfc822
        Content-Disposition: inline

        {(returnPath is null ? "" : $"Return-Path: <{returnPath}>\n")}From: Tagblatt <newsletter@{Domain}>
        To: {recipient}
        Subject: Eilmeldung: Brücke gesperrt
        Message-ID: <{messageId}>
        Date: Wed, 4 Mar 2026 18:40:00 +0000

        Die Brücke ist gesperrt.

        --arf-{n}--
        """;

    public static string AutoReply(int n) =>
        AutoReply(n, $"bounce+a{n:D6}@{Domain}", $"urlauber{n:D6}@example.de", $"campaign-ooo-{n}@{Domain}", $"Thu, 5 Mar 2026 07:30:{n % 60:D2} +0100");

    /// <summary>An out-of-office from <paramref name="reader"/> sent to the return path of the mail <paramref name="messageId"/>.</summary>
    public static string AutoReply(int n, string returnPath, string reader, string messageId, string date) => $"""
        Return-Path: <{reader}>
        Delivered-To: {returnPath}
        Date: {date}
        From: Urlauber {n} <{reader}>
        To: {returnPath}
        Subject: Abwesenheitsnotiz: Eilmeldung: Brücke gesperrt
        Message-ID: <ooo-{n}@example.de>
        Auto-Submitted: auto-replied
        X-Autoreply: yes
        Precedence: auto_reply
        In-Reply-To: <{messageId}>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Vielen Dank für Ihre Nachricht. Ich bin bis zum 16. März nicht im Büro
        und lese meine E-Mails nur unregelmäßig.
        """;

    public static string Unsubscribe(int n, string token) =>
        Unsubscribe(n, token, $"leserin{n:D6}@example.com", $"Fri, 6 Mar 2026 12:00:{n % 60:D2} +0100");

    /// <summary>The mail a reader's mail program sends to the List-Unsubscribe mailto: address, the token in the subject.</summary>
    public static string Unsubscribe(int n, string token, string reader, string date) => $"""
        Return-Path: <{reader}>
        Delivered-To: abmelden@{Domain}
        Date: {date}
        From: {reader}
        To: abmelden@{Domain}
        Subject: unsubscribe-{token}
        Message-ID: <unsub-{n}@example.com>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        This message was automatically generated by the mail client for unsubscribing.
        """;

    /// <summary>A reader writes to the return address by hand: nothing a machine should act on, left for a person.</summary>
    public static string Question(int n) =>
        Question(n, $"bounce+q{n:D6}@{Domain}", $"frage{n:D6}@example.com", $"campaign-q-{n}@{Domain}", $"Sat, 7 Mar 2026 20:15:{n % 60:D2} +0100");

    /// <summary>A reader's reply by hand to the mail <paramref name="messageId"/>, which went to the return path.</summary>
    public static string Question(int n, string returnPath, string reader, string messageId, string date) => $"""
        Return-Path: <{reader}>
        Delivered-To: {returnPath}
        Date: {date}
        From: Ein Leser <{reader}>
        To: {returnPath}
        Subject: Re: Eilmeldung: Brücke gesperrt
        Message-ID: <question-{n}@example.com>
        In-Reply-To: <{messageId}>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Hallo, gilt die Sperrung auch für Fußgänger? Danke und viele Grüße
        """;

    /// <summary>A Date header's value (RFC 5322) for <paramref name="at"/>.</summary>
    public static string Date(DateTimeOffset at) =>
        at.ToString("ddd, d MMM yyyy HH:mm:ss ", System.Globalization.CultureInfo.InvariantCulture) + at.ToString("zzz", System.Globalization.CultureInfo.InvariantCulture).Replace(":", "");

    /// <summary>One of each kind above for number <paramref name="n"/>, in a fixed order.</summary>
    public static string[] OneOfEach(int n, string token) =>
        [HardBounce(n), SoftBounce(n), Complaint(n), AutoReply(n), Unsubscribe(n, token), Question(n)];
}
