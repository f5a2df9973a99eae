using System.Xml.Linq;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>Staff read Meta's error codes on the WhatsApp page in their own language: every code of the table has its meaning in both.</summary>
public sealed class WhatsAppErrorTextTests
{
    [Theory]
    [InlineData("SharedResource.resx")]
    [InlineData("SharedResource.en.resx")]
    public void Every_code_of_the_table_has_a_meaning_in_the_resources(string file)
    {
        var path = Path.Combine(AppFactory.RepositoryRoot(), "src", "NewsletterMigrator", "Resources", file);
        var values = XDocument.Load(path).Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "");
        var missing = WhatsAppErrors.Table.Where(e => !values.TryGetValue("WaError_" + e.Code, out var text) || string.IsNullOrWhiteSpace(text))
            .Select(e => e.Code).ToList();
        Assert.True(missing.Count == 0, $"{file} has no WaError_ text for {string.Join(", ", missing)}");
    }
}
