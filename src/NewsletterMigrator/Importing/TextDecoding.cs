using System.Text;

namespace NewsletterMigrator.Importing;

/// <summary>
/// Detects a text file's encoding without loading it: a BOM says UTF-8 or UTF-16; otherwise one fast
/// streaming pass checks whether every byte sequence is valid UTF-8, and anything that is not is
/// Windows-1252 (detected, not assumed). The stream is rewound afterwards.
/// </summary>
internal static class TextDecoding
{
    static TextDecoding() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static Encoding Windows1252 => Encoding.GetEncoding(1252);

    public static Encoding Detect(Stream stream)
    {
        var start = stream.Position;
        Span<byte> bom = stackalloc byte[3];
        var n = stream.ReadAtLeast(bom, 3, throwOnEndOfStream: false);
        stream.Position = start;
        if (n >= 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF) return new UTF8Encoding(true);
        if (n >= 2 && bom[0] == 0xFF && bom[1] == 0xFE) return Encoding.Unicode;
        if (n >= 2 && bom[0] == 0xFE && bom[1] == 0xFF) return Encoding.BigEndianUnicode;

        var decoder = new UTF8Encoding(false, throwOnInvalidBytes: true).GetDecoder();
        var buffer = new byte[1 << 16];
        var valid = true;
        try
        {
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                if (buffer.AsSpan(0, read).IndexOf((byte)0) >= 0)
                    throw new ImportFormatException("Import_Binary", "The file contains binary data.");
                if (valid)
                {
                    try { decoder.GetCharCount(buffer, 0, read, flush: false); }
                    catch (DecoderFallbackException) { valid = false; }
                }
            }
            if (valid)
            {
                try { decoder.GetCharCount([], 0, 0, flush: true); }
                catch (DecoderFallbackException) { valid = false; }
            }
        }
        finally
        {
            stream.Position = start;
        }
        return valid ? new UTF8Encoding(false) : Windows1252;
    }

    /// <summary>A reader over the stream in its detected encoding; StreamReader skips the encoding's BOM.</summary>
    public static StreamReader Reader(Stream stream, Encoding encoding) =>
        new(stream, encoding, detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16, leaveOpen: true);
}
