namespace NewsletterMigrator.Importing;

/// <summary>
/// What a list may hold before it is refused as hostile or damaged (issue 13): each limit keeps the work and
/// the memory a file can cause proportional to its size on disk, far above any real contact list.
/// </summary>
public static class ImportLimits
{
    /// <summary>
    /// Characters in one line (a CSV record with its quoted line breaks, a text or vCard line). Google's and
    /// Outlook's contact exports write lines of a few hundred characters; a 26 MB line was echoed whole into the
    /// preview and a 50 MB one took the command line to 1.45 GB. Sylvan's record buffer is sized by it (2 MB).
    /// </summary>
    public const int MaxLineChars = 1 << 20;

    /// <summary>
    /// Columns in one row. Outlook's CSV export has 92, Google's 88; the preview renders four drop-downs with
    /// one option per column, and a row of a million columns kept it busy for 88 s.
    /// </summary>
    public const int MaxColumns = 1_000;

    /// <summary>A cell is cut to Excel's own limit (32,767 characters): no real phone number or name is longer.</summary>
    public const int MaxCellChars = 32_767;

    /// <summary>Characters of a cell or header the preview shows; the rest becomes "…" (the import reads all of it).</summary>
    public const int PreviewCellChars = 100;

    /// <summary>
    /// Sheets in one workbook. Each is a choice in the preview's drop-down and may get a kept preview of its
    /// own in the spool; a contact list has one sheet, a workbook with its notes a handful.
    /// </summary>
    public const int MaxSheets = 255;

    /// <summary>Excel refuses sheet names longer than 31 characters; a longer one is cut the same way for the choice and the lookup.</summary>
    public const int MaxSheetNameChars = 31;

    /// <summary>
    /// Bytes a workbook's shared-string table may take in memory: its strings as UTF-8 plus 4 bytes of offset each.
    /// Without it the table grew with the unpacked part (up to 10 × the upload size). Real contact lists have short
    /// distinct strings: Excel's maximum sheet of 1,048,576 rows with three distinct text cells of 28 characters
    /// (a number, a name, an address) fits; the process stays below 300 MB (about 140 MB at rest, the table, the rows).
    /// </summary>
    public const long MaxSharedStringBytes = 96L << 20;

    /// <summary>
    /// An archive (a ZIP holding a list, or an XLSX, which is a ZIP of XML parts) may unpack to at most this
    /// many times its own size, counted while inflating. Apache POI refuses the same ratio (ZipSecureFile's
    /// minimum inflate ratio of 1 %); real workbooks and zipped lists stay below 30. A 1 MB upload so costs
    /// at most about 100 MB of inflating and parsing, where a 1 GiB shared-string table once ran out of memory.
    /// </summary>
    public const int MaxCompressionRatio = 100;

    /// <summary>Small archives may unpack to this much whatever their ratio (a tiny workbook with its styles).</summary>
    public const long CompressionGraceBytes = 10L << 20;

    /// <summary>
    /// [Content_Types].xml and the relationship parts, which the OpenXML package reads whole before any sheet:
    /// a few KB in a real workbook, a few hundred KB with a thousand sheets.
    /// </summary>
    public const long MaxPackageIndexBytes = 4L << 20;

    /// <summary>
    /// One part of an archive may unpack to this many times <see cref="ImportOptions.MaxUploadBytes"/>: the "too
    /// large" message tells editors to pack a larger list as a ZIP, and a CSV of numbers packs to about a quarter.
    /// </summary>
    public const int UnpackedPerUploadedByte = 10;

    /// <summary>The arguments every refusal text may use: {0} line length, {1} columns, {2} compression ratio, {3} shared strings (MB).</summary>
    public static object[] MessageArguments() =>
        [MaxLineChars.ToString("N0", System.Globalization.CultureInfo.CurrentCulture), MaxColumns.ToString("N0", System.Globalization.CultureInfo.CurrentCulture), MaxCompressionRatio,
            MaxSharedStringBytes >> 20];
}

/// <summary>The limit that depends on the configuration: how large one part of an archive may unpack.</summary>
public sealed record ReadLimits(long MaxUnpackedBytes)
{
    public static readonly ReadLimits Default = From(new ImportOptions());

    public static ReadLimits From(ImportOptions options) => new(options.MaxUploadBytes * ImportLimits.UnpackedPerUploadedByte);
}
