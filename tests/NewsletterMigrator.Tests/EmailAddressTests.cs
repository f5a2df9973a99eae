using NewsletterMigrator.Common;

namespace NewsletterMigrator.Tests;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("  Anna@Example.TEST ", "Anna@example.test")]
    [InlineData("jürgen@müller.example", "jürgen@xn--mller-kva.example")]
    [InlineData("a.b+news@sub.example.test", "a.b+news@sub.example.test")]
    public void Addresses_are_trimmed_and_their_domain_normalised(string input, string expected)
    {
        Assert.True(EmailAddress.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("")]
    [InlineData("anna")]
    [InlineData("anna@")]
    [InlineData("@example.test")]
    [InlineData("anna@localhost")]
    [InlineData("anna@@example.test")]
    [InlineData("an na@example.test")]
    [InlineData("anna..b@example.test")]
    [InlineData("anna@example..test")]
    [InlineData("anna@example.test\r\nBcc: x@example.test")]
    public void Obviously_broken_addresses_are_refused(string input)
    {
        Assert.False(EmailAddress.TryNormalize(input, out _));
    }
}
