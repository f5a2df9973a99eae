using NewsletterMigrator.Importing;

namespace NewsletterMigrator.Tests;

/// <summary>The header of each export is recognised with all its phone columns, and the type column beside each value.</summary>
public sealed class ExportHeaderTests
{
    private static ImportMapping Detect(string fixture)
    {
        using var file = File.OpenRead(Path.Combine(FixtureImportTests.FixtureFolder(), fixture));
        return ListReader.Preview(file, fixture).Mapping!;
    }

    private static string Shown(ImportMapping mapping) =>
        string.Join(", ", mapping.PhoneFields!.Select(f => f.TypeColumn >= 0 ? $"{f.Header} [{f.TypeHeader}]" : $"{f.Header} {f.Label}"));

    [Fact]
    public void Google_csv_pairs_each_value_with_its_type_column()
    {
        var mapping = Detect("google-contacts.csv");
        Assert.Equal("Phone 1 - Value [Phone 1 - Type], Phone 2 - Value [Phone 2 - Type], Phone 3 - Value [Phone 3 - Type]", Shown(mapping));
        Assert.Equal(0, mapping.NameColumn);
        var newer = Detect("google-contacts-labels.csv");
        Assert.Equal("Phone 1 - Value [Phone 1 - Label], Phone 2 - Value [Phone 2 - Label]", Shown(newer));
        Assert.Equal((0, 2), (newer.FirstNameColumn, newer.LastNameColumn));
    }

    [Fact]
    public void Outlook_english_and_german_phone_columns_are_labelled_by_their_headers()
    {
        Assert.Equal("Business Phone Other, Business Phone 2 Other, Car Phone Other, Company Main Phone Other, Home Phone Other, Home Phone 2 Other, Mobile Phone Mobile, Other Phone Other, Primary Phone Other",
            Shown(Detect("outlook-en.csv")));
        var german = Detect("outlook-de-cp1252.csv");
        Assert.Equal("Telefon geschäftlich Other, Telefon geschäftlich 2 Other, Autotelefon Other, Telefon Firma Other, Telefon privat Other, Telefon privat 2 Other, Mobiltelefon Mobile, Weiteres Telefon Other, Haupttelefon Other, Mobiltelefon 2 Mobile",
            Shown(german));
        Assert.Equal("Mobiltelefon", german.PhoneFields!.Single(f => f.Column == german.PhoneColumn).Header);
    }

    [Fact]
    public void A_whatsapp_business_tools_list_reads_its_number_and_its_link_but_not_its_labels()
    {
        Assert.Equal("Phone Number Unlabelled, WhatsApp Mobile", Shown(Detect("whatsapp-business.csv")));
    }

    [Fact]
    public void A_list_with_one_phone_column_is_read_as_before()
    {
        using var file = new MemoryStream("Telefonnummer;Name\n0160 1111111;Anna\n"u8.ToArray());
        Assert.Equal(new ImportMapping(0, 1), ListReader.Preview(file, "liste.csv").Mapping);
    }
}
