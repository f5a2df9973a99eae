using System.IO.Compression;
using System.Text;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace NewsletterMigrator.Tests;

/// <summary>Small lists in every format the import accepts, built the way the real tools write them.</summary>
public static class ListSamples
{
    public static byte[] Csv(string text, Encoding? encoding = null)
    {
        encoding ??= new UTF8Encoding(false);
        return [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
    }

    public static byte[] Zip(params (string Name, byte[] Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in files)
            {
                using var entry = zip.CreateEntry(name).Open();
                entry.Write(content);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>An XLSX workbook; a cell value that is a double becomes a number cell, a string a shared string.</summary>
    public static byte[] Xlsx(params (string Sheet, object[][] Rows)[] sheets)
    {
        using var buffer = new MemoryStream();
        using (var document = SpreadsheetDocument.Create(buffer, SpreadsheetDocumentType.Workbook))
        {
            var workbook = document.AddWorkbookPart();
            workbook.Workbook = new Workbook(new Sheets());
            var strings = workbook.AddNewPart<SharedStringTablePart>();
            strings.SharedStringTable = new SharedStringTable();
            var index = 0;
            uint sheetId = 1;
            foreach (var (name, rows) in sheets)
            {
                var part = workbook.AddNewPart<WorksheetPart>();
                var data = new SheetData();
                for (var r = 0; r < rows.Length; r++)
                {
                    var row = new Row { RowIndex = (uint)(r + 1) };
                    for (var c = 0; c < rows[r].Length; c++)
                    {
                        var reference = $"{(char)('A' + c)}{r + 1}";
                        if (rows[r][c] is double number)
                        {
                            row.Append(new Cell { CellReference = reference, CellValue = new CellValue(number) });
                        }
                        else
                        {
                            strings.SharedStringTable.Append(new SharedStringItem(new Text((string)rows[r][c])));
                            row.Append(new Cell { CellReference = reference, DataType = CellValues.SharedString, CellValue = new CellValue(index++) });
                        }
                    }
                    data.Append(row);
                }
                part.Worksheet = new Worksheet(data);
                workbook.Workbook.Sheets!.Append(new Sheet { Id = workbook.GetIdOfPart(part), SheetId = sheetId++, Name = name });
            }
        }
        return buffer.ToArray();
    }

    public const string VCards = """
        BEGIN:VCARD
        VERSION:2.1
        N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen
        TEL;CELL:0160 1111111
        END:VCARD
        BEGIN:VCARD
        VERSION:3.0
        FN:Anna
          Beispiel
        TEL;TYPE=WORK,VOICE:+49 30 1234567
        TEL;TYPE=CELL:+49 171 2222222
        END:VCARD
        BEGIN:VCARD
        VERSION:4.0
        FN:Ben
        TEL;VALUE=uri;TYPE=cell:tel:+49-175-3333333
        END:VCARD
        """;
}
