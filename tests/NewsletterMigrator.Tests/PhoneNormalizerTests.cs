using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Tests;

public sealed class PhoneNormalizerTests
{
    [Theory]
    [InlineData("0160 24 24 24 0")]
    [InlineData("+49 (0)160 2424240")]
    [InlineData("0049 160 2424240")]
    [InlineData("01602424240")]
    [InlineData("0160/2424240")]
    [InlineData("0160-242-4240")]
    [InlineData("(0160) 2424240")]
    [InlineData("'01602424240")]
    [InlineData("  +491602424240  ")]
    public void German_mobile_numbers_in_every_shape_become_E164(string raw)
    {
        var result = PhoneNormalizer.Normalize(raw, "DE");
        Assert.Equal("+491602424240", result.E164);
    }

    [Theory]
    [InlineData("", InvalidReason.Empty)]
    [InlineData("   ", InvalidReason.Empty)]
    [InlineData("4,91602E+11", InvalidReason.ScientificNotation)]
    [InlineData("4.91602E+11", InvalidReason.ScientificNotation)]
    [InlineData("0800-FLOWERS", InvalidReason.Letters)]
    [InlineData("0160 abc 123", InvalidReason.Letters)]
    [InlineData("0160 2", InvalidReason.InvalidNumber)]
    [InlineData("030 1234567", InvalidReason.NotMobile)]
    [InlineData("0800 1234567", InvalidReason.NotMobile)]
    public void Unusable_entries_are_reported_with_their_reason(string raw, string reason)
    {
        var result = PhoneNormalizer.Normalize(raw, "DE");
        Assert.False(result.IsValid);
        Assert.Equal(reason, result.InvalidReason);
    }

    [Fact]
    public void The_default_region_decides_numbers_without_country_code()
    {
        Assert.Equal("+436641234567", PhoneNormalizer.Normalize("0664 1234567", "AT").E164);
        Assert.Equal("+436641234567", PhoneNormalizer.Normalize("+43 664 1234567", "DE").E164);
    }

    [Fact]
    public void North_American_numbers_count_as_mobile_capable()
    {
        Assert.Equal("+12015550123", PhoneNormalizer.Normalize("+1 201-555-0123", "DE").E164);
    }

    [Fact]
    public void WaMe_digits_are_the_international_number_without_plus_C27()
    {
        Assert.Equal("491602424240", PhoneNormalizer.WaMeDigits("+491602424240"));
    }
}
