using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Tests;

/// <summary>The rules that pick an entry's number among several, and tell one number written with a slash from two numbers.</summary>
public sealed class PhoneChoiceTests
{
    private static PhoneChoice Cell(string value) => PhoneChoice.Choose(new ContactRow(2, value, null), "DE");

    private static PhoneChoice Entry(params (string Value, PhoneLabel Label, string Source)[] numbers) =>
        PhoneChoice.Choose(new ContactRow(2, null, null, numbers.Select(n => new PhoneCandidate(n.Value, n.Label, n.Source)).ToList()), "DE");

    [Theory]
    [InlineData("0171/2345678")]
    [InlineData("0171 / 2345678")]
    [InlineData("(0171) 234 56 78")]
    public void A_slash_inside_one_german_number_keeps_it_one_number(string value)
    {
        var choice = Cell(value);
        Assert.Equal(("+491712345678", (PhoneNote[]?)null), (choice.E164, choice.Notes));
    }

    [Theory]
    [InlineData("0171 2345678 / 030 1234567")]
    [InlineData("030 1234567; 0171 2345678")]
    [InlineData("030 1234567 ::: 0171 2345678")]
    [InlineData("0171 2345678\n030 1234567")]
    [InlineData("0171 2345678 oder 030 1234567")]
    [InlineData("030 1234567 or +49 171 2345678")]
    [InlineData("030 1234567, 0171 2345678")]
    public void A_cell_with_a_mobile_and_a_landline_takes_the_mobile_and_notes_the_landline(string value)
    {
        var choice = Cell(value);
        Assert.Equal("+491712345678", choice.E164);
        var note = Assert.Single(choice.Notes!);
        Assert.Equal(InvalidReason.Landline, note.Reason);
        Assert.Contains("030 1234567", note.Value);
    }

    [Fact]
    public void A_cell_is_split_only_when_every_part_is_a_number()
    {
        // "bitte erfragen" is no number: the cell is one (invalid) value, as before, with today's reason.
        Assert.Equal(InvalidReason.Letters, Cell("0171 2345678 / bitte erfragen").InvalidReason);
        Assert.Equal(InvalidReason.Letters, Cell("0171 2345678 / 030 1234567 / bitte erfragen").InvalidReason);
    }

    [Theory]
    [InlineData("030 1234567", InvalidReason.NotMobile)]
    [InlineData("", InvalidReason.Empty)]
    [InlineData("0160-ABC-DEFG", InvalidReason.Letters)]
    public void One_number_keeps_the_reasons_of_a_one_number_list(string value, string reason)
    {
        Assert.Equal(reason, Cell(value).InvalidReason);
        Assert.Equal(reason, Entry((value, PhoneLabel.Other, "Home Phone")).InvalidReason);
    }

    [Fact]
    public void A_mobile_labelled_number_wins_over_an_earlier_mobile_capable_one()
    {
        var choice = Entry(("0160 1111111", PhoneLabel.Other, "Phone 1 - Value (Work)"), ("0171 2222222", PhoneLabel.Mobile, "Phone 2 - Value (Mobile)"));
        Assert.Equal("+491712222222", choice.E164);
        Assert.Equal([new PhoneNote(PhoneChoice.OtherMobile, "0160 1111111 (Phone 1 - Value (Work))")], choice.Notes!);
    }

    [Fact]
    public void Without_a_mobile_label_the_first_mobile_capable_number_is_taken_wherever_it_stands()
    {
        var choice = Entry(("030 1234567", PhoneLabel.Mobile, "Mobile Phone"), ("0160 1111111", PhoneLabel.Other, "Home Phone"));
        Assert.Equal("+491601111111", choice.E164);
        Assert.Equal([new PhoneNote(InvalidReason.Landline, "030 1234567 (Mobile Phone)")], choice.Notes!);
    }

    [Fact]
    public void Several_numbers_without_a_mobile_one_make_the_entry_invalid_and_each_is_noted()
    {
        var choice = Entry(("030 1234567", PhoneLabel.Other, "Home Phone"), ("keine", PhoneLabel.Other, "Business Phone"));
        Assert.Equal(PhoneChoice.NoMobileNumber, choice.InvalidReason);
        Assert.Equal([new PhoneNote(InvalidReason.Landline, "030 1234567 (Home Phone)"), new PhoneNote(PhoneChoice.OtherInvalid, "keine (Business Phone)")], choice.Notes!);
    }

    [Fact]
    public void The_same_number_twice_is_one_number_without_a_note()
    {
        var choice = Entry(("0171 2222222", PhoneLabel.Mobile, "Mobile Phone"), ("+49 171 2222222", PhoneLabel.Other, "Primary Phone"));
        Assert.Equal(("+491712222222", (PhoneNote[]?)null), (choice.E164, choice.Notes));
    }

    [Fact]
    public void A_typed_cell_of_several_numbers_keeps_its_type_for_each()
    {
        var choice = Entry(("0160 1111111", PhoneLabel.Other, "Phone 1 - Value (Work)"), ("0171 2222222 ::: 0172 3333333", PhoneLabel.Mobile, "Phone 2 - Value (Mobile)"));
        Assert.Equal("+491712222222", choice.E164);
        Assert.Equal([PhoneChoice.OtherMobile, PhoneChoice.OtherMobile], choice.Notes!.Select(n => n.Reason));
    }

    [Theory]
    [InlineData("https://wa.me/491712345678")]
    [InlineData("wa.me/491712345678?text=Hallo")]
    [InlineData("https://api.whatsapp.com/send?phone=491712345678")]
    public void A_whatsapp_chat_link_gives_its_number(string link)
    {
        Assert.Equal("+491712345678", Cell(link).E164);
    }

    [Theory]
    [InlineData("* Mobile", PhoneLabel.Mobile)]
    [InlineData("Mobil", PhoneLabel.Mobile)]
    [InlineData("iPhone", PhoneLabel.Mobile)]
    [InlineData("Home", PhoneLabel.Other)]
    [InlineData("Work Fax", PhoneLabel.Other)]
    [InlineData("", PhoneLabel.Unlabelled)]
    public void Labels_as_exports_write_them(string text, PhoneLabel label) => Assert.Equal(label, PhoneChoice.LabelOf(text));
}
