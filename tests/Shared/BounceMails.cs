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

    public static string HardBounce(int n) => $"""
        Return-Path: <>
        Delivered-To: bounce+h{n:D6}@{Domain}
        Received: from mx.example.org (mx.example.org [192.0.2.25]) by mail.{Domain} with ESMTPS id 4Yx{n:D6}; Mon, 2 Mar 2026 09:14:{n % 60:D2} +0100
        Date: Mon, 2 Mar 2026 09:14:{n % 60:D2} +0100
        From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
        To: bounce+h{n:D6}@{Domain}
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

        <leser{n:D6}@example.org>: host mx.example.org[192.0.2.25] said: 550 5.1.1
            <leser{n:D6}@example.org>: Recipient address rejected: User unknown in
            virtual mailbox table (in reply to RCPT TO command)

        --dsn-{n}
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.org
        X-Postfix-Queue-ID: 4Yx{n:D6}
        Arrival-Date: Mon, 2 Mar 2026 09:14:01 +0100

        Final-Recipient: rfc822; leser{n:D6}@example.org
        Original-Recipient: rfc822;leser{n:D6}@example.org
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx.example.org
        Diagnostic-Code: smtp; 550 5.1.1 <leser{n:D6}@example.org>: Recipient address
            rejected: User unknown in virtual mailbox table

        --dsn-{n}
        Content-Type: text/rfc822-headers

        Return-Path: <bounce+h{n:D6}@{Domain}>
        From: Tagblatt <newsletter@{Domain}>
        To: leser{n:D6}@example.org
        Subject: Eilmeldung: Brücke gesperrt
        Message-ID: <campaign-{n}@{Domain}>
        Date: Mon, 2 Mar 2026 09:13:58 +0100

        --dsn-{n}--
        """;

    public static string SoftBounce(int n) => $"""
        Return-Path: <>
        Delivered-To: bounce+s{n:D6}@{Domain}
        Date: Tue, 3 Mar 2026 06:02:{n % 60:D2} +0100
        From: MAILER-DAEMON@mail.example.net
        To: bounce+s{n:D6}@{Domain}
        Subject: Delivery Status Notification (Failure)
        Message-ID: <dsn-soft-{n}@mail.example.net>
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="soft-{n}"

        --soft-{n}
        Content-Type: text/plain; charset=utf-8

        Delivery to the following recipient failed permanently after 3 days:

             abonnent{n:D6}@example.net

        The recipient's mailbox is full and can't accept messages now.

        --soft-{n}
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mail.example.net

        Final-Recipient: rfc822; abonnent{n:D6}@example.net
        Action: failed
        Status: 4.2.2
        Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

        --soft-{n}
        Content-Type: message/rfc822

        From: Tagblatt <newsletter@{Domain}>
        To: abonnent{n:D6}@example.net
        Subject: Ihr Morgenbriefing
        Message-ID: <campaign-soft-{n}@{Domain}>
        Date: Mon, 2 Mar 2026 06:00:00 +0100

        Guten Morgen!

        --soft-{n}--
        """;

    public static string Complaint(int n) => $"""
        Return-Path: <fbl@feedback.example.com>
        Delivered-To: fbl@{Domain}
        Date: Wed, 4 Mar 2026 18:41:{n % 60:D2} +0000
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
        Original-Mail-From: <bounce+c{n:D6}@{Domain}>
        Original-Rcpt-To: <kundin{n:D6}@example.com>
        Arrival-Date: Wed, 4 Mar 2026 18:40:12 +0000
        Reported-Domain: {Domain}
        Source-IP: 198.51.100.7

        --arf-{n}
        Content-Type: message/rfc822
        Content-Disposition: inline

        Return-Path: <bounce+c{n:D6}@{Domain}>
        From: Tagblatt <newsletter@{Domain}>
        To: kundin{n:D6}@example.com
        Subject: Eilmeldung: Brücke gesperrt
        Message-ID: <campaign-arf-{n}@{Domain}>
        Date: Wed, 4 Mar 2026 18:40:00 +0000

        Die Brücke ist gesperrt.

        --arf-{n}--
        """;

    public static string AutoReply(int n) => $"""
        Return-Path: <urlauber{n:D6}@example.de>
        Delivered-To: bounce+a{n:D6}@{Domain}
        Date: Thu, 5 Mar 2026 07:30:{n % 60:D2} +0100
        From: Urlauber {n} <urlauber{n:D6}@example.de>
        To: bounce+a{n:D6}@{Domain}
        Subject: Abwesenheitsnotiz: Eilmeldung: Brücke gesperrt
        Message-ID: <ooo-{n}@example.de>
        Auto-Submitted: auto-replied
        X-Autoreply: yes
        Precedence: auto_reply
        In-Reply-To: <campaign-ooo-{n}@{Domain}>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Vielen Dank für Ihre Nachricht. Ich bin bis zum 16. März nicht im Büro
        und lese meine E-Mails nur unregelmäßig.
        """;

    public static string Unsubscribe(int n, string token) => $"""
        Return-Path: <leserin{n:D6}@example.com>
        Delivered-To: abmelden@{Domain}
        Date: Fri, 6 Mar 2026 12:00:{n % 60:D2} +0100
        From: leserin{n:D6}@example.com
        To: abmelden@{Domain}
        Subject: unsubscribe-{token}
        Message-ID: <unsub-{n}@example.com>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        This message was automatically generated by the mail client for unsubscribing.
        """;

    /// <summary>A reader writes to the return address by hand: nothing a machine should act on, left for a person.</summary>
    public static string Question(int n) => $"""
        Return-Path: <frage{n:D6}@example.com>
        Delivered-To: bounce+q{n:D6}@{Domain}
        Date: Sat, 7 Mar 2026 20:15:{n % 60:D2} +0100
        From: Ein Leser <frage{n:D6}@example.com>
        To: bounce+q{n:D6}@{Domain}
        Subject: Re: Eilmeldung: Brücke gesperrt
        Message-ID: <question-{n}@example.com>
        In-Reply-To: <campaign-q-{n}@{Domain}>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: 8bit

        Hallo, gilt die Sperrung auch für Fußgänger? Danke und viele Grüße
        """;

    /// <summary>One of each kind above for number <paramref name="n"/>, in a fixed order.</summary>
    public static string[] OneOfEach(int n, string token) =>
        [HardBounce(n), SoftBounce(n), Complaint(n), AutoReply(n), Unsubscribe(n, token), Question(n)];
}
