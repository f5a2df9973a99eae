using System.Security.Cryptography;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Tests;

public sealed class TokenAndKeyTests
{
    private static readonly KeyRing Keys = new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Tokens_carry_256_bits_and_are_url_safe_C29()
    {
        var token = new TokenService(Keys).Create(TokenPurpose.Confirm, Guid.NewGuid(), 1);
        Assert.Equal(43, token.Length); // 32 bytes, base64url without padding
        Assert.Matches("^[A-Za-z0-9_-]+$", token);
    }

    [Fact]
    public void Tokens_are_derived_again_identically_and_differ_by_purpose_record_generation_and_key()
    {
        var tokens = new TokenService(Keys);
        var id = Guid.NewGuid();
        var token = tokens.Create(TokenPurpose.Confirm, id, 1);
        Assert.Equal(token, tokens.Create(TokenPurpose.Confirm, id, 1));
        Assert.NotEqual(token, tokens.Create(TokenPurpose.Unsubscribe, id, 1));
        Assert.NotEqual(token, tokens.Create(TokenPurpose.Confirm, Guid.NewGuid(), 1));
        Assert.NotEqual(token, tokens.Create(TokenPurpose.Confirm, id, 2));
        Assert.NotEqual(token, new TokenService(new KeyRing(RandomNumberGenerator.GetBytes(32))).Create(TokenPurpose.Confirm, id, 1));
    }

    [Fact]
    public void Only_the_hash_is_stored_and_a_forged_token_does_not_match()
    {
        var token = new TokenService(Keys).Create(TokenPurpose.Invitation, Guid.NewGuid(), 0);
        var stored = TokenService.Hash(token);
        Assert.True(TokenService.Matches(token, stored));
        var forged = (token[0] == 'A' ? 'B' : 'A') + token[1..];
        Assert.False(TokenService.Matches(forged, stored));
        Assert.Null(TokenService.TryHash("short"));
        Assert.Null(TokenService.TryHash(new string('!', 43)));
    }

    [Fact]
    public void An_addressed_token_names_its_record_but_only_the_server_can_make_one_C29()
    {
        var tokens = new TokenService(Keys);
        var id = Guid.CreateVersion7();
        var token = tokens.CreateAddressed(TokenPurpose.Invitation, id, 0);
        Assert.Equal(43, token.Length);
        Assert.Equal(token, tokens.CreateAddressed(TokenPurpose.Invitation, id, 0));
        Assert.Equal(id, TokenService.TryReadRecordId(token));
        // Purpose, generation and key all change the HMAC part, not the id.
        foreach (var other in new[]
        {
            tokens.CreateAddressed(TokenPurpose.Confirm, id, 0),
            tokens.CreateAddressed(TokenPurpose.Invitation, id, 1),
            new TokenService(new KeyRing(RandomNumberGenerator.GetBytes(32))).CreateAddressed(TokenPurpose.Invitation, id, 0),
        })
        {
            Assert.Equal(id, TokenService.TryReadRecordId(other));
            Assert.False(TokenService.Matches(other, TokenService.Hash(token)));
            Assert.False(tokens.MatchesAddressed(other, TokenPurpose.Invitation, id, 0));
        }
        // Checked by deriving it again, so nothing of an invitation link is stored.
        Assert.True(tokens.MatchesAddressed(token, TokenPurpose.Invitation, id, 0));
        Assert.False(tokens.MatchesAddressed(token, TokenPurpose.Invitation, Guid.CreateVersion7(), 0));
        Assert.False(tokens.MatchesAddressed(token[..42] + (token[42] == 'A' ? 'E' : 'A'), TokenPurpose.Invitation, id, 0));
        Assert.False(tokens.MatchesAddressed("short", TokenPurpose.Invitation, id, 0));
        Assert.Null(TokenService.TryReadRecordId("short"));
        Assert.Null(TokenService.TryReadRecordId(new string('!', 43)));
        Assert.Null(TokenService.TryReadRecordId(null));
    }

    [Fact]
    public void Phone_numbers_are_encrypted_with_a_fresh_nonce_and_deduplicated_by_keyed_HMAC_C19()
    {
        var phones = new PhoneProtector(Keys);
        var first = phones.Encrypt("+491602424240");
        var second = phones.Encrypt("+491602424240");
        Assert.NotEqual(first, second);
        Assert.Equal("+491602424240", phones.Decrypt(first));
        var hmac = phones.Hmac("+491602424240");
        Assert.Equal(hmac, phones.Hmac("+491602424240")); // the same number always finds its duplicate
        Assert.NotEqual(hmac, phones.Hmac("+491602424241"));
        Assert.NotEqual(phones.Hmac("+491602424240"), new PhoneProtector(new KeyRing(RandomNumberGenerator.GetBytes(32))).Hmac("+491602424240"));
        // The bulk session (an import) counts its nonces up: never one twice, in one session or across two.
        using var session = phones.CreateSession();
        using var other = phones.CreateSession();
        var sealedValues = Enumerable.Range(0, 500).SelectMany(_ => new[] { session.Encrypt("+491602424240"), other.Encrypt("+491602424240") }).ToList();
        Assert.Equal(sealedValues.Count, sealedValues.Select(v => Convert.ToHexString(v, 0, 12)).Distinct().Count());
        Assert.All(sealedValues, v => Assert.Equal("+491602424240", phones.Decrypt(v)));
        var tampered = (byte[])first.Clone();
        tampered[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => phones.Decrypt(tampered));
    }
}
