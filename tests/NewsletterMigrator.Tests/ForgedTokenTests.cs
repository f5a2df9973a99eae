using System.Net;
using System.Text;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 3: every token route answers a forged, short, long, non-ASCII or percent-encoded token
/// like an unknown one, never with a 500 (C29). Property-style: thousands of generated strings per run.
/// </summary>
public sealed class ForgedTokenTests : IAsyncLifetime
{
    private static readonly string[] Routes = ["/i/", "/confirm/", "/u/", "/manage/", "/manage/access/", "/manage/change/"];
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private readonly AppFactory _app = new(settings: new() { ["Consent:SignUpsPerIpPerHour"] = "100000" });

    public async Task InitializeAsync() => await _app.NewsletterAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task A_43_character_token_with_padding_bits_set_is_an_unknown_link_not_an_error_C29()
    {
        var reader = _app.ReaderClient();
        // 32 bytes in 43 characters leave two padding bits in the last one: 48 of the 64 endings set them.
        foreach (var last in Alphabet)
        {
            var token = new string('B', 42) + last;
            foreach (var route in Routes)
            {
                var response = await reader.GetAsync(route + token);
                Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound,
                    $"{route}{token} answered {(int)response.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task Thousands_of_random_strings_on_every_token_route_never_answer_500_C29()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var reader = _app.ReaderClient();
        for (var i = 0; i < 400; i++)
        {
            var token = Uri.EscapeDataString(RandomToken(random));
            foreach (var route in Routes)
            {
                var response = await reader.GetAsync(route + token);
                Assert.True((int)response.StatusCode < 500, $"seed {seed}: GET {route}{token} answered {(int)response.StatusCode}");
            }
            // The one-click endpoint takes a POST without cookies or antiforgery token (C21): forged ones too.
            var post = await reader.PostAsync("/u/" + token, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
            Assert.True((int)post.StatusCode < 500, $"seed {seed}: POST /u/{token} answered {(int)post.StatusCode}");
        }
    }

    /// <summary>Shapes a probe would try: near-valid base64url, wrong lengths, non-ASCII, control and reserved characters.</summary>
    private static string RandomToken(Random random)
    {
        // Half of them look like ours: 43 base64url characters, which must decode or be refused without throwing.
        if (random.Next(2) == 0) return string.Concat(Enumerable.Range(0, 43).Select(_ => Alphabet[random.Next(Alphabet.Length)]));
        var length = random.Next(6) switch
        {
            0 => 43,
            1 => random.Next(40, 47),
            2 => random.Next(0, 5),
            3 => random.Next(100, 300),
            _ => random.Next(1, 80),
        };
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(10) switch
            {
                < 6 => Alphabet[random.Next(Alphabet.Length)],
                6 => (char)random.Next(0x20, 0x7F),        // any printable ASCII: '/', '%', '?', '#', '.' …
                7 => (char)random.Next(0xA0, 0x2FF),       // Latin-1 and beyond: ß, é, ¿
                8 => "äöü€😀"[random.Next(5)],             // high and surrogate code units
                _ => (char)random.Next(1, 0x20),           // control characters, CR and LF
            });
        }
        return builder.ToString();
    }
}
