using System.Text;

namespace NewsletterMigrator.Bench;

/// <summary>A realistic WhatsApp export: German mobile numbers in mixed shapes, ~1 % duplicates, ~1 % junk.</summary>
internal static class ListGenerator
{
    private static readonly string[] Prefixes = ["151", "152", "157", "159", "160", "162", "163", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"];
    private static readonly string[] Names = ["Anna", "Ben", "Clara", "Deniz", "Emil", "Frieda", "Günther", "Hanna", "Ilse", "Jürgen"];

    public static void Write(string path, int rows)
    {
        var random = new Random(20261128);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("Telefonnummer;Name\n");
        string? previous = null;
        for (var i = 0; i < rows; i++)
        {
            var roll = random.Next(100);
            string number;
            if (roll == 0 && previous is not null) number = previous; // duplicate
            else if (roll == 1) number = "4,91602E+11"; // spreadsheet damage
            else
            {
                var prefix = Prefixes[random.Next(Prefixes.Length)];
                var rest = random.Next(1_000_000, 99_999_999).ToString("D8");
                number = (i % 4) switch
                {
                    0 => $"+49 {prefix} {rest}",
                    1 => $"0{prefix}/{rest}",
                    2 => $"0049{prefix}{rest}",
                    _ => $"0{prefix} {rest[..4]} {rest[4..]}",
                };
                previous = number;
            }
            writer.Write(number);
            writer.Write(';');
            writer.Write(Names[i % Names.Length]);
            writer.Write(' ');
            writer.Write(i);
            writer.Write('\n');
        }
    }
}
