using System.Net;
using Microsoft.EntityFrameworkCore;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Issue 13, point 5: odd but legal form values get the normal validation message, never a 500.</summary>
public sealed class OddFormValueTests : IAsyncLifetime
{
    private readonly AppFactory _app = new();

    public async Task InitializeAsync() => await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("on")]  // what a browser sends for a checkbox without a value
    [InlineData("1")]
    [InlineData("yes")]
    [InlineData("")]
    [InlineData("true; DROP TABLE Subscribers")]
    public async Task A_consent_box_posted_as_anything_but_true_is_unticked_and_says_so_C2(string value)
    {
        var reader = _app.ReaderClient();
        var page = await reader.GetStringAsync("/n/eilmeldungen");
        var form = TestData.SignUpForm(page, "leserin@example.test");
        form["Input.Consent"] = value;
        form["Input.AgeConfirmed"] = value;

        var response = await reader.PostFormAsync("/n/eilmeldungen", page, form);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Bitte setzen Sie das Häkchen", html);
        Assert.DoesNotContain("checked=\"checked\"", html);
        Assert.False(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
    }

    [Fact]
    public async Task The_expected_value_still_ticks_the_boxes_C2()
    {
        var response = await _app.ReaderClient().SignUpAsync("leserin@example.test");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await _app.WithDbAsync(db => db.Subscribers.AnyAsync()));
    }
}
