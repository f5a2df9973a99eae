using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>The WhatsApp Business Platform path against a local server speaking the Graph API (C28).</summary>
public sealed class WhatsAppTests : IAsyncLifetime
{
    private const string AppSecret = FakeGraphApi.AppSecret;
    private const string VerifyToken = FakeGraphApi.VerifyToken;
    private readonly FakeGraphApi _graph = new();
    private readonly AppFactory _app;

    public WhatsAppTests()
    {
        _app = new AppFactory(settings: _graph.Settings());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _graph.DisposeAsync();
    }

    private async Task<Newsletter> NewsletterWithContactsAsync(params (string, string)[] rows)
    {
        var newsletter = await _app.NewsletterAsync();
        await _app.ImportAsync(newsletter, "liste.csv", rows);
        await _app.SetMigrationEndAsync(newsletter, InvitingTestData.InAMonth);
        return newsletter;
    }

    private static async Task<HttpResponseMessage> QueueAllAsync(HttpClient client, int newsletterId)
    {
        var page = await client.GetStringAsync($"/admin/whatsapp/{newsletterId}");
        return await client.PostFormAsync($"/admin/whatsapp/{newsletterId}?handler=Queue", page, new() { ["Import"] = "" });
    }

    private async Task<List<WhatsAppMessage>> WaitForAsync(Func<List<WhatsAppMessage>, bool> done)
    {
        for (var i = 0; i < 100; i++)
        {
            var rows = await _app.WithDbAsync(db => db.WhatsAppMessages.AsNoTracking().OrderBy(m => m.Id).ToListAsync());
            if (done(rows)) return rows;
            await Task.Delay(100);
        }
        throw new TimeoutException("The WhatsApp queue did not reach the expected state.");
    }

    [Fact]
    public async Task An_invitation_whose_newsletter_closed_after_it_was_queued_waits_and_goes_out_once_it_is_open_again_C38()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var contact = await _app.WithDbAsync(db => db.Contacts.SingleAsync());
        // The state when an admin empties the Impressum while the Cloud API queue still holds the invitation:
        // written directly, so the worker (not the queueing page) is what must hold it back.
        await _app.WithDbAsync(async db =>
        {
            await db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.Impressum, ""));
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = contact.Id, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = DateTime.UtcNow, NextAttemptAtUtc = DateTime.UtcNow, RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });

        // Held back, not cancelled: still queued, due again later, and Meta heard nothing.
        var held = await WaitForAsync(r => r.Single().NextAttemptAtUtc > DateTime.UtcNow.AddMinutes(1));
        Assert.Equal(WhatsAppStatus.Queued, held.Single().Status);
        Assert.Empty(_graph.Requests);

        await _app.WithDbAsync(async db =>
        {
            await db.Newsletters.ExecuteUpdateAsync(u => u.SetProperty(n => n.Impressum, "Tagblatt GmbH, Musterstraße 1, 12345 Musterstadt"));
            return await db.WhatsAppMessages.ExecuteUpdateAsync(u => u.SetProperty(m => m.NextAttemptAtUtc, DateTime.UtcNow));
        });
        await WaitForAsync(r => r.Single().Status == WhatsAppStatus.Accepted);
        Assert.Single(_graph.Requests);
    }

    [Fact]
    public async Task The_template_goes_out_with_the_personal_link_once_per_reader_C28_C11()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        var editor = await _app.EditorAsync();

        var response = await QueueAllAsync(editor, newsletter.Id);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Contains("2 Einladungen", await editor.GetStringAsync(response.Headers.Location));
        var rows = await WaitForAsync(r => r.Count == 2 && r.All(m => m.Status == WhatsAppStatus.Accepted));

        Assert.Equal(2, _graph.Requests.Count);
        var links = _app.Service<InvitationLinks>();
        var contacts = await _app.WithDbAsync(db => db.Contacts.ToListAsync());
        foreach (var request in _graph.Requests)
        {
            Assert.Equal("/v21.0/106540352242922/messages", request.Path);
            Assert.Equal("Bearer EAAG-test-token", request.Authorization);
            Assert.Equal("whatsapp", request.Body.GetProperty("messaging_product").GetString());
            Assert.Equal("template", request.Body.GetProperty("type").GetString());
            var template = request.Body.GetProperty("template");
            Assert.Equal("newsletter_umzug", template.GetProperty("name").GetString());
            Assert.Equal("de", template.GetProperty("language").GetProperty("code").GetString());
            var parameter = template.GetProperty("components")[0].GetProperty("parameters")[0].GetProperty("text").GetString();
            var to = request.Body.GetProperty("to").GetString();
            Assert.Contains(to, new[] { "491601111111", "491712222222" });
            var contact = contacts.Single(c => _app.Service<NewsletterMigrator.Common.PhoneProtector>().Decrypt(c.PhoneEncrypted!) == "+" + to);
            Assert.Equal(links.InvitationUrl(contact), parameter);
        }
        Assert.All(rows, r => Assert.StartsWith("wamid.", r.Wamid));
        Assert.Equal(2, await _app.WithDbAsync(db => db.Contacts.CountAsync(c => c.InvitedAtUtc != null)));

        // Once per reader: queueing again sends nothing new.
        response = await QueueAllAsync(editor, newsletter.Id);
        Assert.Contains("0 Einladungen", await editor.GetStringAsync(response.Headers.Location));
        await Task.Delay(500);
        Assert.Equal(2, _graph.Requests.Count);
        Assert.Equal(2, await _app.WithDbAsync(db => db.WhatsAppMessages.CountAsync()));
    }

    [Fact]
    public async Task A_second_message_needs_an_admin_and_a_reason_in_the_audit_log()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var editor = await _app.EditorAsync();
        await QueueAllAsync(editor, newsletter.Id);
        await WaitForAsync(r => r.Count == 1 && r[0].Status == WhatsAppStatus.Accepted);
        var contactId = await _app.WithDbAsync(db => db.Contacts.Select(c => c.Id).SingleAsync());

        // An editor's forged resend is refused.
        var page = await editor.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        Assert.DoesNotContain("whatsapp-resend", page);
        var refused = await editor.PostFormAsync($"/admin/whatsapp/{newsletter.Id}?handler=Resend", page, new() { ["Resend"] = contactId.ToString(), ["Reason"] = "bitte" });
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
        Assert.StartsWith("/account/denied", refused.Headers.Location!.AbsolutePath);

        var admin = await _app.AdminAsync();
        page = await admin.GetStringAsync($"/admin/whatsapp/{newsletter.Id}?resend={contactId}");
        Assert.Contains("Zweite Einladung an Anna Muster", page);
        var noReason = await admin.PostFormAsync($"/admin/whatsapp/{newsletter.Id}?handler=Resend", page, new() { ["Resend"] = contactId.ToString(), ["Reason"] = "  " });
        Assert.Contains("Bitte einen Grund", await noReason.Content.ReadAsStringAsync());
        Assert.Equal(1, await _app.WithDbAsync(db => db.WhatsAppMessages.CountAsync()));
        Assert.False(await _app.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "whatsapp-resend")));

        var resent = await admin.PostFormAsync($"/admin/whatsapp/{newsletter.Id}?handler=Resend", page,
            new() { ["Resend"] = contactId.ToString(), ["Reason"] = "Leserin hat das Handy gewechselt" });
        Assert.Equal(HttpStatusCode.Redirect, resent.StatusCode);
        await WaitForAsync(r => r.Count == 2 && r.All(m => m.Status == WhatsAppStatus.Accepted));
        Assert.Equal(2, _graph.Requests.Count);
        var audit = await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "whatsapp-resend"));
        Assert.Equal("admin@example.test", audit.UserName);
        Assert.Contains("Leserin hat das Handy gewechselt", audit.Details);
    }

    [Fact]
    public async Task A_throughput_answer_and_a_server_error_are_retried_only_the_server_error_counts_as_an_attempt()
    {
        _graph.Answer(429, """{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429}}""");
        _graph.Answer(503);
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        await QueueAllAsync(await _app.EditorAsync(), newsletter.Id);
        var row = (await WaitForAsync(r => r.Count == 1 && r[0].Status == WhatsAppStatus.Accepted)).Single();
        Assert.Equal(2, row.Attempts);
        Assert.Equal(3, _graph.Requests.Count);
        Assert.Null(row.LastError);
    }

    [Fact]
    public async Task A_permanent_error_is_recorded_on_the_contact_and_not_retried()
    {
        _graph.Answer(400, """{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026}}""");
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var editor = await _app.EditorAsync();
        await QueueAllAsync(editor, newsletter.Id);
        var row = (await WaitForAsync(r => r.Count == 1 && r[0].Status == WhatsAppStatus.Failed)).Single();
        Assert.Contains("131026", row.LastError);
        Assert.DoesNotContain("1111111", row.LastError);
        await Task.Delay(500);
        Assert.Single(_graph.Requests);
        Assert.Null(await _app.WithDbAsync(db => db.Contacts.Select(c => c.InvitedAtUtc).SingleAsync()));
        var page = await editor.GetStringAsync($"/admin/whatsapp/{newsletter.Id}");
        Assert.Contains("Anna Muster: HTTP 400, error 131026: (#131026) Message undeliverable", page);
    }

    [Fact]
    public async Task A_row_left_leased_by_a_crashed_worker_is_sent_after_its_lease_expires()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var contactId = await _app.WithDbAsync(db => db.Contacts.Select(c => c.Id).SingleAsync());
        // What a crash between lease and answer leaves behind: a lease by an owner that no longer runs.
        await _app.WithDbAsync(async db =>
        {
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = contactId, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Leased, CreatedAtUtc = DateTime.UtcNow,
                NextAttemptAtUtc = DateTime.UtcNow, LeaseOwner = "crashed-host:1", LeaseExpiresAtUtc = DateTime.UtcNow.AddSeconds(1), RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });
        var row = (await WaitForAsync(r => r.Count == 1 && r[0].Status == WhatsAppStatus.Accepted)).Single();
        Assert.Single(_graph.Requests);
        Assert.NotNull(row.Wamid);
    }

    [Fact]
    public async Task The_webhook_answers_the_handshake_only_with_the_verify_token_C28()
    {
        var client = _app.CreateClient();
        var ok = await client.GetAsync($"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VerifyToken}&hub.challenge=1158201444");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("1158201444", await ok.Content.ReadAsStringAsync());
        var wrong = await client.GetAsync("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444");
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.DoesNotContain("1158201444", await wrong.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Signed_status_webhooks_record_sent_delivered_read_and_failed_per_contact_C28()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        await QueueAllAsync(await _app.EditorAsync(), newsletter.Id);
        var rows = await WaitForAsync(r => r.Count == 2 && r.All(m => m.Status == WhatsAppStatus.Accepted));
        var client = _app.CreateClient();
        async Task<HttpStatusCode> PostAsync(string body, string? signature = null)
        {
            var content = new StringContent(body, Encoding.UTF8, "application/json");
            content.Headers.Add("X-Hub-Signature-256", signature ?? FakeGraphApi.Sign(body, AppSecret));
            return (await client.PostAsync("/webhooks/whatsapp", content)).StatusCode;
        }
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(HttpStatusCode.OK, await PostAsync(FakeGraphApi.StatusWebhook(rows[0].Wamid!, "sent", "491601111111", t)));
        // Out of order: "read" arrives before "delivered"; the state never moves back.
        Assert.Equal(HttpStatusCode.OK, await PostAsync(FakeGraphApi.StatusWebhook(rows[0].Wamid!, "read", "491601111111", t + 20)));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(FakeGraphApi.StatusWebhook(rows[0].Wamid!, "delivered", "491601111111", t + 10)));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(FakeGraphApi.StatusWebhook(rows[1].Wamid!, "failed", "491712222222", t, errorCode: 131026)));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(FakeGraphApi.StatusWebhook("wamid.unknown", "read", "49000", t)));

        var after = await _app.WithDbAsync(db => db.WhatsAppMessages.AsNoTracking().OrderBy(m => m.Id).ToListAsync());
        Assert.Equal(WhatsAppStatus.Read, after[0].Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(t).UtcDateTime, after[0].SentAtUtc);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(t + 10).UtcDateTime, after[0].DeliveredAtUtc);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(t + 20).UtcDateTime, after[0].ReadAtUtc);
        Assert.Equal(WhatsAppStatus.Failed, after[1].Status);
        Assert.Contains("131026", after[1].LastError);
    }

    [Fact]
    public async Task A_webhook_with_a_wrong_signature_is_rejected_and_records_nothing_C28()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        await QueueAllAsync(await _app.EditorAsync(), newsletter.Id);
        var wamid = (await WaitForAsync(r => r.Count == 1 && r[0].Status == WhatsAppStatus.Accepted)).Single().Wamid!;
        var body = FakeGraphApi.StatusWebhook(wamid, "read", "491601111111", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var client = _app.CreateClient();

        foreach (var signature in new[] { FakeGraphApi.Sign(body, "another-secret"), FakeGraphApi.Sign(body + " ", AppSecret), "sha256=zz", "", null })
        {
            var content = new StringContent(body, Encoding.UTF8, "application/json");
            if (signature is not null) content.Headers.Add("X-Hub-Signature-256", signature);
            var response = await client.PostAsync("/webhooks/whatsapp", content);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var row = await _app.WithDbAsync(db => db.WhatsAppMessages.AsNoTracking().SingleAsync());
        Assert.Equal(WhatsAppStatus.Accepted, row.Status);
        Assert.Null(row.ReadAtUtc);
    }

    private async Task<HttpStatusCode> PostWebhookAsync(string body, string? signature = null)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add("X-Hub-Signature-256", signature ?? FakeGraphApi.Sign(body, AppSecret));
        return (await _app.CreateClient().PostAsync("/webhooks/whatsapp", content)).StatusCode;
    }

    private Task<bool> SuppressedAsync(string e164)
    {
        var hmac = _app.Service<NewsletterMigrator.Common.PhoneProtector>().Hmac(e164);
        return _app.WithDbAsync(db => db.Suppressions.AnyAsync(s => s.Kind == SuppressionKind.Phone && s.Hash == hmac));
    }

    [Fact]
    public async Task A_signed_STOP_reply_suppresses_and_erases_the_number_and_cancels_its_waiting_message_C41_C44()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        var anna = await _app.WithDbAsync(db => db.Contacts.SingleAsync(c => c.DisplayName == "Anna Muster"));
        // A message waiting for a retry far ahead, so the worker does not send it first.
        await _app.WithDbAsync(async db =>
        {
            db.WhatsAppMessages.Add(new WhatsAppMessage
            {
                ContactId = anna.Id, NewsletterId = newsletter.Id, Status = WhatsAppStatus.Queued,
                CreatedAtUtc = DateTime.UtcNow, NextAttemptAtUtc = DateTime.UtcNow.AddDays(1), RequestedBy = "test",
            });
            return await db.SaveChangesAsync();
        });

        var body = FakeGraphApi.MessageWebhook("491601111111", " Stopp! ", DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(HttpStatusCode.OK, await PostWebhookAsync(body));

        var contacts = await _app.WithDbAsync(db => db.Contacts.AsNoTracking().ToListAsync());
        var objected = contacts.Single(c => c.Id == anna.Id);
        Assert.NotNull(objected.ObjectedAtUtc);
        Assert.Null(objected.PhoneEncrypted);
        Assert.Null(objected.DisplayName);
        var ben = contacts.Single(c => c.Id != anna.Id);
        Assert.Null(ben.ObjectedAtUtc);
        Assert.NotNull(ben.PhoneEncrypted);
        Assert.True(await SuppressedAsync("+491601111111"));
        Assert.False(await SuppressedAsync("+491712222222"));
        Assert.Equal(WhatsAppStatus.Cancelled, (await _app.WithDbAsync(db => db.WhatsAppMessages.AsNoTracking().SingleAsync())).Status);
        var audit = await _app.WithDbAsync(db => db.AuditEntries.SingleAsync(a => a.Action == "objection"));
        Assert.Equal("whatsapp-webhook", audit.UserName);
        Assert.Contains("whatsapp", audit.Details);
        Assert.DoesNotContain("1111111", audit.Details);

        // Queueing everyone now reaches only Ben.
        await QueueingEveryoneReachesOnlyBenAsync(newsletter.Id);
    }

    [Fact]
    public async Task A_number_on_the_suppression_list_gets_no_template_C41_C18()
    {
        var newsletter = await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"), ("0171 2222222", "Ben Beispiel"));
        await using (var scope = _app.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<NewsletterMigrator.Subscribers.SuppressionList>()
                .AddAsync(SuppressionKind.Phone, _app.Service<NewsletterMigrator.Common.PhoneProtector>().Hmac("+491601111111"), "opt-out list", DateTime.UtcNow);

        await QueueingEveryoneReachesOnlyBenAsync(newsletter.Id);
    }

    /// <summary>Anna (0160 1111111) objected or is suppressed: "invite everyone" queues one template, for Ben.</summary>
    private async Task QueueingEveryoneReachesOnlyBenAsync(int newsletterId)
    {
        var editor = await _app.EditorAsync();
        var response = await QueueAllAsync(editor, newsletterId);
        Assert.Contains("1 Einladung", await editor.GetStringAsync(response.Headers.Location));
        await WaitForAsync(r => r.Count(m => m.Status == WhatsAppStatus.Accepted) == 1);
        Assert.Equal("491712222222", Assert.Single(_graph.Requests).Body.GetProperty("to").GetString());
    }

    [Fact]
    public async Task A_STOP_reply_with_a_forged_signature_changes_nothing_C41()
    {
        await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var body = FakeGraphApi.MessageWebhook("491601111111", "STOP", DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        Assert.Equal(HttpStatusCode.Unauthorized, await PostWebhookAsync(body, FakeGraphApi.Sign(body, "another-secret")));

        var contact = await _app.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync());
        Assert.Null(contact.ObjectedAtUtc);
        Assert.NotNull(contact.PhoneEncrypted);
        Assert.False(await SuppressedAsync("+491601111111"));
    }

    [Fact]
    public async Task A_reply_that_is_not_STOP_changes_nothing_C44()
    {
        await NewsletterWithContactsAsync(("0160 1111111", "Anna Muster"));
        var t = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var text in new[] { "Danke, mache ich!", "Bitte nicht stoppen", "stop motion", "" })
            Assert.Equal(HttpStatusCode.OK, await PostWebhookAsync(FakeGraphApi.MessageWebhook("491601111111", text, t++)));

        var contact = await _app.WithDbAsync(db => db.Contacts.AsNoTracking().SingleAsync());
        Assert.Null(contact.ObjectedAtUtc);
        Assert.Equal("Anna Muster", contact.DisplayName);
        Assert.False(await SuppressedAsync("+491601111111"));
    }

    [Theory]
    [InlineData("STOP", true)]
    [InlineData("stop", true)]
    [InlineData(" Stopp! ", true)]
    [InlineData("Abmelden.", true)]
    [InlineData("S T O P", true)]
    [InlineData("stop?!", true)]
    [InlineData("Stopp bitte nicht", false)]
    [InlineData("Nicht abmelden", false)]
    [InlineData("", false)]
    public void Stop_words_are_read_whatever_their_case_spacing_or_trailing_punctuation_C41(string text, bool stop) =>
        Assert.Equal(stop, NewsletterMigrator.Subscribers.PhoneObjections.IsStopWord(text));
}
