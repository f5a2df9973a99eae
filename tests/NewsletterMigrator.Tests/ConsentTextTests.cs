using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Consent;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

public sealed class ConsentTextTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_version_a_reader_has_seen_never_changes_editing_creates_a_new_one_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        await using var scope = _app.Services.CreateAsyncScope();
        var texts = scope.ServiceProvider.GetRequiredService<ConsentTextService>();

        // Unseen: a correction stays version 1.
        var v1 = await texts.SaveAsync(newsletter.Id, "de", "Ja, ich will.", "Info", newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion);
        Assert.Equal(1, v1.Version);
        Assert.False(v1.Generated);
        Assert.Equal(ConsentTextService.Sha256("Ja, ich will.", "Info", newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion,
            v1.ObjectionNote, v1.Impressum), v1.Sha256);

        // A reader sees it, so the next edit is version 2 and version 1 keeps its words and hash.
        using (var client = _app.CreateClient()) await client.GetStringAsync("/n/eilmeldungen");
        var v2 = await texts.SaveAsync(newsletter.Id, "de", "Ja, ich will den Newsletter.", "Info", newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion);
        Assert.Equal(2, v2.Version);
        var stored = await _app.WithDbAsync(db => db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Id == v1.Id));
        Assert.Equal("Ja, ich will.", stored.Statement);
        Assert.Equal(v1.Sha256, stored.Sha256);
    }

    [Theory]
    [InlineData("Impressum")]
    [InlineData("PrivacyNoticeVersion")]
    public async Task A_settings_change_after_a_reader_saw_a_version_shows_a_new_version_and_keeps_the_old_one_C43(string setting)
    {
        await _app.NewsletterAsync();
        var reader = _app.ReaderClient();
        var first = await reader.GetStringAsync("/n/eilmeldungen");
        var shown = await ShownVersionAsync(first);
        // Opening the page again without a change shows the very same version.
        Assert.Equal(shown.Id, (await ShownVersionAsync(await reader.GetStringAsync("/n/eilmeldungen"))).Id);

        await _app.WithDbAsync(async db =>
        {
            var n = await db.Newsletters.SingleAsync();
            if (setting == "Impressum") n.Impressum = "Tagblatt Verlag GmbH, Neue Straße 5, 12345 Musterstadt. Verantwortlich: Max Muster";
            else n.PrivacyNoticeVersion = "2027-01";
            return await db.SaveChangesAsync();
        });

        var second = await reader.GetStringAsync("/n/eilmeldungen");
        var next = await ShownVersionAsync(second);
        Assert.Equal(shown.Version + 1, next.Version);
        Assert.NotEqual(shown.Sha256, next.Sha256);
        if (setting == "Impressum") Assert.Contains("Neue Straße 5", next.Impressum);
        else
        {
            Assert.Contains("(Stand: 2027-01)", second);
            Assert.Contains("(Stand: 2026-11)", first);
        }
        // What the page shows is what the version holds: the Art. 21 note beside the form and the Art. 13 text.
        Assert.Contains($"<p class=\"small mt-3\">{next.ObjectionNote}</p>", WebUtility.HtmlDecode(second));
        Assert.Contains("Art. 21 DSGVO", next.ObjectionNote);
        Assert.Contains(next.PrivacyInformation, WebUtility.HtmlDecode(second));

        // Version N is exactly as the reader saw it.
        var old = await _app.WithDbAsync(db => db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Id == shown.Id));
        Assert.Equivalent(shown, old, strict: true);
        Assert.Equal(ConsentTextService.Sha256(old.Statement, old.PrivacyInformation, old.PrivacyNoticeUrl, old.PrivacyNoticeVersion, old.ObjectionNote, old.Impressum), old.Sha256);

        // The sign-up records the version and hash actually shown.
        await reader.PostFormAsync("/n/eilmeldungen", second, TestData.SignUpForm(second, "leserin@example.test"));
        var signUp = await _app.WithDbAsync(db => db.ConsentEvents.SingleAsync(e => e.Kind == ConsentEventKind.SignUp));
        Assert.Equal(next.Id, signUp.ConsentTextId);
        Assert.Equal(next.Sha256, signUp.ConsentTextSha256);
    }

    [Fact]
    public async Task An_editors_Art_13_text_is_kept_word_for_word_while_a_generated_one_follows_the_settings_C40()
    {
        var newsletter = await _app.NewsletterAsync();
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var texts = scope.ServiceProvider.GetRequiredService<ConsentTextService>();
            var own = await texts.SaveAsync(newsletter.Id, "de", "Ja, ich will.", "Unser eigener Datenschutztext.", newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion);
            Assert.False(own.Generated);
        }
        await _app.WithDbAsync(async db =>
        {
            var n = await db.Newsletters.SingleAsync();
            n.ControllerName = "Tagblatt Medien AG";
            return await db.SaveChangesAsync();
        });

        var german = await _app.ReaderClient().GetStringAsync("/n/eilmeldungen");
        var de = await ShownVersionAsync(german);
        Assert.Equal("Unser eigener Datenschutztext.", de.PrivacyInformation);
        Assert.Equal("Ja, ich will.", de.Statement);
        Assert.Contains("Tagblatt Medien AG", de.Impressum);
        var english = await ShownVersionAsync(await _app.ReaderClient("en").GetStringAsync("/n/eilmeldungen"));
        Assert.True(english.Generated);
        Assert.Contains("Controller: Tagblatt Medien AG", english.PrivacyInformation);
        // The generated statement names the controller by its legal name too (C2).
        Assert.True(english.StatementGenerated);
        Assert.Contains("from Tagblatt Medien AG with breaking news", english.Statement);
    }

    [Fact]
    public async Task An_editor_saving_the_generated_text_unchanged_keeps_it_generated_C40()
    {
        var newsletter = await _app.NewsletterAsync();
        var shown = await ShownVersionAsync(await _app.ReaderClient().GetStringAsync("/n/eilmeldungen"));
        Assert.True(shown.Generated);
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            // As the settings form posts it: the textarea's line breaks arrive as CRLF.
            var saved = await scope.ServiceProvider.GetRequiredService<ConsentTextService>().SaveAsync(newsletter.Id, "de", "Ja, ich will die Eilmeldungen.",
                shown.PrivacyInformation.ReplaceLineEndings("\r\n"), newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion);
            Assert.True(saved.Generated);
            Assert.Equal(shown.PrivacyInformation, saved.PrivacyInformation);
        }
        await _app.WithDbAsync(async db =>
        {
            var n = await db.Newsletters.SingleAsync();
            n.DataProtectionOfficer = "Dr. Datenschutz, dsb@tagblatt.example.test";
            return await db.SaveChangesAsync();
        });
        var after = await ShownVersionAsync(await _app.ReaderClient().GetStringAsync("/n/eilmeldungen"));
        Assert.Equal("Ja, ich will die Eilmeldungen.", after.Statement);
        Assert.Contains("Datenschutzbeauftragte/r: Dr. Datenschutz", after.PrivacyInformation);
    }

    [Fact]
    public async Task A_page_never_fixes_words_as_seen_that_an_editor_corrected_after_they_were_read_C7()
    {
        var newsletter = await _app.NewsletterAsync();
        await using var scope = _app.Services.CreateAsyncScope();
        var texts = scope.ServiceProvider.GetRequiredService<ConsentTextService>();
        var read = (await texts.ForReaderAsync(newsletter, "de"))!;
        Assert.Null(read.FirstShownAtUtc);

        // The editor corrects the still unseen version in place between the page's read and its mark.
        await texts.SaveAsync(newsletter.Id, "de", "Ja, korrigiert.", read.PrivacyInformation, newsletter.PrivacyNoticeUrl, newsletter.PrivacyNoticeVersion);
        Assert.False(await texts.MarkShownAsync(read));
        var shown = (await texts.ShowToReaderAsync(newsletter, "de"))!;
        Assert.Equal(read.Id, shown.Id);
        Assert.Equal("Ja, korrigiert.", shown.Statement);
        Assert.NotNull((await _app.WithDbAsync(db => db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Id == read.Id))).FirstShownAtUtc);
    }

    private Task<ConsentText> ShownVersionAsync(string page)
    {
        var id = int.Parse(Html.InputValue(page, "Input.ConsentTextId")!);
        return _app.WithDbAsync(db => db.ConsentTexts.AsNoTracking().SingleAsync(t => t.Id == id));
    }

    [Fact]
    public async Task The_consent_ledger_is_append_only()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.ConsentEvents.Add(new ConsentEvent { SubscriberId = Guid.NewGuid(), NewsletterId = 1, Kind = ConsentEventKind.SignUp, OccurredAtUtc = DateTime.UtcNow });
        await db.SaveChangesAsync();
        var entry = await db.ConsentEvents.SingleAsync();
        entry.IpAddress = "203.0.113.9";
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        db.ChangeTracker.Clear();
        db.ConsentEvents.Remove(await db.ConsentEvents.SingleAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
    }
}
