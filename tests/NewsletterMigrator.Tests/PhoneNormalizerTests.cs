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

    [Theory]
    [InlineData("tel:+49-171-2345678")]
    [InlineData("TEL:+49-171-2345678")]
    [InlineData("tel:+491712345678;ext=12")]
    [InlineData("tel:0171-2345678;phone-context=+49")]
    [InlineData("tel:171-2345678;phone-context=+49")]
    [InlineData("tel://+491712345678")]
    public void A_tel_URI_is_read_with_its_phone_context_and_without_its_extension(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Fact]
    public void A_tel_URIs_phone_context_names_the_country_whatever_the_default_region()
    {
        // Read with region AT, a local number without its context would be Austrian (and invalid).
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize("tel:0171-2345678;phone-context=+49", "AT").E164);
    }

    [Theory]
    [InlineData("tel:0800-FLOWERS", InvalidReason.Letters)]
    [InlineData("tel:", InvalidReason.Unparseable)]
    [InlineData("tel:;ext=12", InvalidReason.Unparseable)]
    [InlineData("tel:+49-30-1234567;ext=12", InvalidReason.NotMobile)]
    public void A_tel_URI_without_a_usable_number_is_reported_with_its_reason(string raw, string reason)
    {
        Assert.Equal(reason, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Theory]
    [InlineData("https://wa.me/491712345678")]
    [InlineData("http://wa.me/491712345678")]
    [InlineData("wa.me/491712345678")]
    [InlineData("https://wa.me/491712345678?text=Hallo")]
    [InlineData("https://WA.ME/+491712345678/")]
    [InlineData("https://api.whatsapp.com/send?phone=491712345678")]
    [InlineData("https://api.whatsapp.com/send/?phone=491712345678&text=Hallo&type=phone_number")]
    [InlineData("https://api.whatsapp.com/send?text=Hallo&phone=%2B491712345678")]
    [InlineData("whatsapp://send?phone=491712345678")]
    public void A_WhatsApp_link_is_read_as_the_full_international_number(string raw)
    {
        // Region AT: the digits name the country, the default region does not.
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "AT").E164);
    }

    [Theory]
    [InlineData("https://wa.me/message/2XYZABC", InvalidReason.Letters)]
    [InlineData("https://wa.me/01712345678", InvalidReason.Unparseable)]
    [InlineData("https://wa.me/4930123456", InvalidReason.NotMobile)]
    public void A_WhatsApp_link_without_a_usable_number_is_reported_with_its_reason(string raw, string reason)
    {
        Assert.Equal(reason, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Theory]
    [InlineData("mobil: 0171 2345678")]
    [InlineData("Mobil 0171 2345678")]
    [InlineData("Tel.: 0171 2345678")]
    [InlineData("Tel. (0171) 2345678")]
    [InlineData("Handy 0171/2345678")]
    [InlineData("Handy-Nr.: 0171 2345678")]
    [InlineData("WhatsApp: +49 171 2345678")]
    [InlineData("mobile: +49 171 2345678")]
    [InlineData("Mobile phone: 0171 2345678")]
    [InlineData("cell 0171 2345678")]
    [InlineData("Mobil (privat): 0171 2345678")]
    [InlineData("Tel: 0049 171 2345678")]
    [InlineData("0171 2345678 (privat)")]
    [InlineData("0171 2345678 (nur abends)")]
    [InlineData("0171 2345678 (home)")]
    [InlineData("0171 2345678 [Büro]")]
    [InlineData("0171 2345678(privat)")]
    [InlineData("0171 2345678 (ab 18 Uhr) (privat)")]
    [InlineData("Handy: 0171 2345678 (privat)")]
    public void A_label_before_or_a_note_after_the_number_is_not_part_of_it(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Theory]
    [InlineData("0800-FLOWERS")]            // vanity number: the letters are the number
    [InlineData("0171 23CALL45")]           // letters inside the digits
    [InlineData("0171 2345678x")]           // libphonenumber would take x as an extension; a person hesitates too
    [InlineData("0171 2345678 x12")]        // an extension in words: a PBX number, not one to write to
    [InlineData("0171 2345678 privat")]     // a note without brackets could as well be a vanity tail
    [InlineData("0171 (privat) 2345678")]   // a bracketed word inside the digits is no note
    [InlineData("Mobil0171 2345678")]       // a word that runs into the digits is no label
    [InlineData("Tel.0171 2345678")]
    [InlineData("FLOWERS")]
    [InlineData("+ (privat)")]             // a note needs a number before it
    [InlineData("0800-\uFF26LOWERS")]       // a full-width letter is a letter too
    public void Letters_that_are_not_a_separate_label_or_note_stay_invalid(string raw)
    {
        Assert.Equal(InvalidReason.Letters, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Theory]
    [InlineData("mobil:")]
    [InlineData("Tel.: ")]
    public void A_label_without_a_number_is_no_phone_number(string raw)
    {
        Assert.Equal(InvalidReason.Unparseable, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Fact]
    public void A_label_before_a_vanity_number_leaves_the_vanity_letters_invalid()
    {
        Assert.Equal(InvalidReason.Letters, PhoneNormalizer.Normalize("Tel.: 0800-FLOWERS", "DE").InvalidReason);
        Assert.Equal(InvalidReason.Letters, PhoneNormalizer.Normalize("0800-FLOWERS (Blumen)", "DE").InvalidReason);
    }

    [Theory]
    [InlineData("'0171 2345678")]
    [InlineData(" ' 0171 2345678 ")]
    [InlineData("'+49 171 2345678")]
    [InlineData("=\"0171 2345678\"")]
    [InlineData(" = \" 0171 2345678 \" ")]
    [InlineData("=\"+491712345678\"")]
    public void Excels_text_marks_are_not_part_of_the_number(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Theory]
    [InlineData("0171\u00A02345678")]          // no-break space
    [InlineData("0171\u202F2345678")]          // narrow no-break space
    [InlineData("0171\u20072345678")]          // figure space
    [InlineData("0171\u2009234\u200A5678")]    // thin and hair space
    [InlineData("0171\u30002345678")]          // ideographic space
    [InlineData("0171\t2345678")]
    [InlineData("\uFEFF0171 2345678")]          // byte order mark left at the start of a cell
    [InlineData("0171\uFEFF2345678")]
    [InlineData("0171\u200B2345678")]          // zero-width space
    [InlineData("0171\u20602345678")]          // word joiner
    [InlineData("0171\u00AD2345678")]          // soft hyphen
    [InlineData("\u202A+49 171 2345678\u202C")] // bidi embedding, as WhatsApp copies a number
    [InlineData("\u200E+49\u200E171\u200E2345678")] // left-to-right marks
    [InlineData("0171\u20102345678")]
    [InlineData("0171\u20112345678")]
    [InlineData("0171\u2012234\u20135678")]
    [InlineData("0171\u2014234\u20155678")]
    [InlineData("0171\u22122345678")]          // minus sign
    [InlineData("\uFF10\uFF11\uFF17\uFF11 \uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18")] // full-width digits
    [InlineData("\uFF0B\uFF14\uFF19 171 2345678")]           // full-width plus
    [InlineData("\uFF10\uFF10\uFF14\uFF19 171 2345678")]     // full-width 00
    [InlineData("\uFF080171\uFF09 2345678")]                  // full-width parentheses
    [InlineData("\u0660\u0661\u0667\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668")] // Arabic-Indic digits
    [InlineData("\u06F0\u06F1\u06F7\u06F1\u06F2\u06F3\u06F4\u06F5\u06F6\u06F7\u06F8")] // Persian digits
    [InlineData("Mobil:\u00A00171\u00A02345678")]
    [InlineData("0171 2345678\u00A0(privat)")]
    [InlineData("Mobil\uFF1A0171 2345678")]         // full-width colon ends a label
    [InlineData("0171 2345678 \uFF08privat\uFF09")]  // full-width brackets around a note
    [InlineData("Handy\u2010Nr.: 0171 2345678")]     // a Unicode hyphen inside a label
    public void Unicode_spaces_dashes_and_digits_are_read_as_their_ASCII_counterparts(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Theory]
    [InlineData("\u00A0")]
    [InlineData("\u200B\uFEFF")]
    [InlineData("'")]
    [InlineData(" ' ")]
    [InlineData("=\"\"")]
    public void A_cell_of_only_invisible_characters_or_Excel_marks_is_empty(string raw)
    {
        Assert.Equal(InvalidReason.Empty, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Theory]
    [InlineData("0049 171 2345678", "DE")]
    [InlineData("0049 171 2345678", "US")] // 00 is no exit code in the US, but a German list read so still means +49
    [InlineData("+49 171 2345678", "US")]
    [InlineData("+ 49 171 2345678", "DE")]
    [InlineData("011 49 171 2345678", "US")] // 011 is the US exit code
    [InlineData("\u0660\u0660\u0664\u0669 171 2345678", "US")] // 00 in Arabic-Indic digits is still 00
    public void International_prefixes_name_the_country(string raw, string region)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, region).E164);
    }

    [Fact]
    public void Zero_eleven_is_no_exit_code_in_Germany()
    {
        Assert.Equal(InvalidReason.InvalidNumber, PhoneNormalizer.Normalize("011 49 171 2345678", "DE").InvalidReason);
    }

    [Theory]
    [InlineData("+49 (0)171 2345678")]
    [InlineData("+49(0)1712345678")]
    [InlineData("0049 (0) 171 2345678")]
    [InlineData("+49 (0) 171-2345678")]
    [InlineData("+49 0171 2345678")]
    public void A_trunk_zero_after_the_country_code_is_dropped(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Fact]
    public void A_zero_in_brackets_inside_the_national_number_is_kept()
    {
        // Not right after a country code, "(0)" is a digit of the number: 0171 02345678, which libphonenumber
        // accepts as an eleven-digit mobile number. Dropping it blindly would invent another person's number.
        Assert.Equal("+4917102345678", PhoneNormalizer.Normalize("0171 (0) 2345678", "DE").E164);
    }

    [Theory]
    [InlineData("0171/2345678")]
    [InlineData("0171 / 2345678")]
    [InlineData("(0171) 234 56 78")]
    [InlineData("0171.234.5678")]
    public void A_slash_or_dots_inside_one_number_are_separators(string raw)
    {
        Assert.Equal("+491712345678", PhoneNormalizer.Normalize(raw, "DE").E164);
    }

    [Theory]
    [InlineData("4,91712E+11")]
    [InlineData("'4,91712E+11")]
    [InlineData("=\"4,91712E+11\"")]
    public void Spreadsheet_damage_is_reported_even_behind_Excel_marks(string raw)
    {
        Assert.Equal(InvalidReason.ScientificNotation, PhoneNormalizer.Normalize(raw, "DE").InvalidReason);
    }

    [Fact]
    public void WaMe_digits_are_the_international_number_without_plus_C27()
    {
        Assert.Equal("491602424240", PhoneNormalizer.WaMeDigits("+491602424240"));
    }
}
