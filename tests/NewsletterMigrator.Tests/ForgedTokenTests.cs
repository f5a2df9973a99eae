using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Issue 13, point 3: every token route answers a forged, short, long, non-ASCII or percent-encoded token
/// exactly like a well-formed unknown one (C29), on the real Kestrel server: Kestrel refuses what TestServer
/// lets through (e.g. a non-ASCII Location header), so some 500s only show there. The decoder itself gets
/// the bulk of the random strings in-process; the routes get a sample of each shape.
/// </summary>
public sealed partial class ForgedTokenTests : IAsyncLifetime
{
    private static readonly string[] Routes = ["/i/", "/confirm/", "/u/", "/manage/", "/manage/access/", "/manage/change/"];
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private readonly AppFactory _app = new(kestrel: true, settings: new() { ["Consent:SignUpsPerIpPerHour"] = "100000" });
    private HttpClient _reader = null!;

    public async Task InitializeAsync()
    {
        await _app.NewsletterAsync();
        _app.StartServer();
        _reader = _app.RealBrowser();
    }

    public async Task DisposeAsync()
    {
        _reader.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public void The_decoder_refuses_100_000_random_strings_without_throwing_and_accepts_only_canonical_tokens_C29()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        for (var i = 0; i < 100_000; i++)
        {
            var token = RandomToken(random);
            Guid? id;
            byte[]? hash;
            try
            {
                id = TokenService.TryReadRecordId(token);
                hash = TokenService.TryHash(token);
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}: '{Escaped(token)}' threw {ex.GetType().Name}: {ex.Message}");
                return;
            }
            // Only a string we could have issued gets a lookup: 32 bytes that encode back to the very same 43 characters.
            var canonical = token.Length == 43 && IsCanonical(token);
            Assert.True(canonical == (hash is not null), $"seed {seed}: '{Escaped(token)}' hash {(hash is null ? "refused" : "accepted")}");
            Assert.True(canonical == (id is not null), $"seed {seed}: '{Escaped(token)}' id {(id is null ? "refused" : "accepted")}");
        }
    }

    [Fact]
    public async Task A_43_character_token_with_padding_bits_set_is_answered_like_an_unknown_link_C29()
    {
        // 32 bytes in 43 characters leave two padding bits in the last one: 48 of the 64 endings set them.
        // `/i/` + 42 × `B` + `b` answered 500 (issue 13).
        foreach (var route in Routes)
        {
            var unknown = await GetAsync(route + UnknownToken());
            foreach (var last in Alphabet)
                AssertSameAnswer(unknown, await GetAsync(route + new string('B', 42) + last), $"GET {route}{new string('B', 42)}{last}");
        }
    }

    [Fact]
    public async Task Random_and_percent_encoded_strings_on_every_token_route_are_answered_like_an_unknown_token_C29()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        // Sent as they are, not escaped by us: Kestrel decodes them (%2F stays encoded, invalid UTF-8 is refused).
        string[] raw = ["%00", "%2F", "%2e%2e%2Fadmin", "%C3%28", "%FF%FE", "%25", "%0D%0A", "%E2%80%AE" + new string('A', 40), "AAAA%3F%23", new string('A', 42) + "%3D"];
        // An empty, "." or ".." segment is no token: the path is normalised to another route before routing.
        var tokens = raw.Concat(Enumerable.Range(0, 40).Select(_ => Uri.EscapeDataString(RandomToken(random))).Where(t => t is not ("" or "." or ".."))).ToList();
        foreach (var route in Routes)
        {
            var unknown = await GetAsync(route + UnknownToken());
            foreach (var token in tokens)
                AssertSameAnswer(unknown, await GetAsync(route + token), $"seed {seed}: GET {route}{token}");
        }
        // The one-click endpoint takes a POST without cookies or antiforgery token (C21): forged ones too.
        var unknownPost = await PostOneClickAsync("/u/" + UnknownToken());
        foreach (var token in tokens)
            AssertSameAnswer(unknownPost, await PostOneClickAsync("/u/" + token), $"seed {seed}: POST /u/{token}");
    }

    private sealed record Answer(HttpStatusCode Status, string? Location, string Body);

    private static void AssertSameAnswer(Answer unknown, Answer answer, string request)
    {
        // Kestrel itself refuses some paths (e.g. %00) with an empty 400 before the app sees them: not a token answer.
        if (answer is { Status: HttpStatusCode.BadRequest, Body: "" }) return;
        Assert.True(unknown.Status == answer.Status, $"{request} answered {(int)answer.Status}, an unknown token {(int)unknown.Status}");
        Assert.True(unknown.Location == answer.Location, $"{request} redirected to {answer.Location}, an unknown token to {unknown.Location}");
        Assert.True(unknown.Body == answer.Body, $"{request}: the page differs from an unknown token's:\n{answer.Body}");
    }

    private async Task<Answer> GetAsync(string path) => await AnswerOf(await _reader.GetAsync(path));

    private async Task<Answer> PostOneClickAsync(string path) =>
        await AnswerOf(await _reader.PostAsync(path, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")])));

    private static async Task<Answer> AnswerOf(HttpResponseMessage response)
    {
        using (response)
            return new(response.StatusCode, response.Headers.Location?.OriginalString, PerRequestValues().Replace(await response.Content.ReadAsStringAsync(), ""));
    }

    /// <summary>A token of our shape that no record has: what a forged one must be answered like.</summary>
    private static string UnknownToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    private static bool IsCanonical(string token)
    {
        if (!token.All(c => char.IsAscii(c) && (char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))) return false;
        // The padding bits of the last character are zero exactly when its sextet is a multiple of 4.
        return Alphabet.IndexOf(token[^1]) % 4 == 0;
    }

    private static string Escaped(string token) => Uri.EscapeDataString(token);

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

    // The antiforgery token (and any other hidden value), a CSP nonce and the language switch's way back
    // (the requested path, token included) differ per request.
    [GeneratedRegex("(value|nonce)=\"[^\"]*\"|returnUrl=[^\"]*")]
    private static partial Regex PerRequestValues();
}
