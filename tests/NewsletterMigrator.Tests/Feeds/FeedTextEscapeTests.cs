using System.Net;
using System.Text.RegularExpressions;
using NewsletterMigrator.Common;
using NewsletterMigrator.Feeds;

namespace NewsletterMigrator.Tests.Feeds;

/// <summary>A feed's headline or teaser reaches the mail as the newsroom wrote it, never as Markdown or HTML.</summary>
public sealed class FeedTextEscapeTests
{
    [Theory]
    [InlineData("Eilmeldung: *Hochwasser* in der _Altstadt_")]
    [InlineData("1. FC Köln gewinnt 2:1")]
    [InlineData("- Liveticker: Wahl in Berlin")]
    [InlineData("# Sperrung der A3")]
    [InlineData("Klick [hier](javascript:alert(1)) & <b>fett</b> `code` | Tabelle ~~durch~~")]
    [InlineData("Preis: 3 &amp; 4 > 2, Stadt-Derby (Nachtrag) + Video!")]
    [InlineData(@"Pfad C:\Daten\neu")]
    public void Feed_text_renders_exactly_as_written(string headline)
    {
        var html = MarkdownRenderer.ToHtml(FeedMail.Escape(headline)).Trim();
        Assert.Matches("^<p>.*</p>$", html); // one paragraph: no heading, list, table or code block
        Assert.DoesNotMatch("<(a|em|strong|b|code|del|h1|li|table)[ >]", html);
        Assert.Equal(headline, WebUtility.HtmlDecode(Regex.Replace(html, "</?p>", "")));
    }

    [Fact]
    public void The_editor_reads_the_text_without_a_backslash_where_none_is_needed() =>
        Assert.Equal("Die Polizei leitet den Verkehr um. Stadt-Derby (Nachtrag) endet 2:2!", FeedMail.Escape("Die Polizei leitet den Verkehr um. Stadt-Derby (Nachtrag) endet 2:2!"));
}
