using System.Text.Json;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Importing;

/// <summary>What the preview page shows of an upload: its first rows, or why it cannot be imported.</summary>
public sealed record UploadPreview(ListPreview? Preview, string? ErrorKey);

/// <summary>
/// The preview of an upload, worked out once (issue 13): the first view unpacks a ZIP's list into the spool (or
/// counts a workbook's parts) and reads the first rows; every later view (a reload, the start of the import, a
/// sheet seen before) reads the kept result, and the import reads the unpacked list. A refused file keeps its
/// reason, so a hostile file costs its work once, not on every view (a 1 GiB zip was unpacked again on each one).
/// Previews are kept only for the workbook's own sheets: any other ?sheet= shows the first one and keeps nothing,
/// as each new name once wrote a file and read the workbook again.
/// </summary>
public sealed class UploadPreviews(ImportSpool spool, IOptions<ImportOptions> options, ILogger<UploadPreviews> logger)
{
    /// <summary>The upload's first rows (of <paramref name="sheet"/>), or why it cannot be imported: worked out on the first view, then kept.</summary>
    public UploadPreview Show(Guid id, UploadInfo info, string? sheet)
    {
        info = Prepare(id, info);
        if (info.ErrorKey is { } refused) return new UploadPreview(null, refused);
        if (sheet is not null && info.Sheets?.Contains(sheet) != true) sheet = null;
        var kept = spool.PreviewPath(id, sheet);
        if (Read(kept) is { } known) return known;

        UploadPreview result;
        try
        {
            var (file, name) = spool.OpenList(id, info);
            using (file) result = new UploadPreview(ListReader.Preview(file, name, sheet, ReadLimits.From(options.Value), prepared: true), null);
        }
        catch (ImportFormatException ex)
        {
            logger.LogInformation("Upload {UploadId} cannot be imported: {Reason}", id, ex.ReasonKey);
            result = new UploadPreview(null, ex.ReasonKey);
        }
        spool.WriteAtomically(kept, JsonSerializer.Serialize(result));
        return result;
    }

    /// <summary>Unpacks a ZIP's list beside the upload (and counts a workbook's parts), once; the outcome and the sheets are kept in the upload's info.</summary>
    private UploadInfo Prepare(Guid id, UploadInfo info)
    {
        if (info.Prepared) return info;
        var temporary = $"{spool.ListPath(id)}.{Guid.NewGuid():N}.tmp";
        try
        {
            PreparedList prepared;
            using (var upload = spool.Open(id)) prepared = ListReader.Prepare(upload, info.FileName, temporary, ReadLimits.From(options.Value));
            // Two first views at once both unpack; the last move wins with the same content.
            if (prepared.ListName is not null) File.Move(temporary, spool.ListPath(id), overwrite: true);
            info = info with { Prepared = true, ListName = prepared.ListName, Sheets = prepared.Sheets };
        }
        catch (ImportFormatException ex)
        {
            logger.LogInformation("Upload {UploadId} refused: {Reason}", id, ex.ReasonKey);
            info = info with { Prepared = true, ErrorKey = ex.ReasonKey };
        }
        finally
        {
            File.Delete(temporary);
        }
        spool.SaveInfo(id, info);
        return info;
    }

    private static UploadPreview? Read(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<UploadPreview>(File.ReadAllText(path)) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException)
        {
            return null;
        }
    }
}
