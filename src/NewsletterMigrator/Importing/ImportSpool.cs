using System.Text.Json;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;

namespace NewsletterMigrator.Importing;

/// <summary>
/// What the editor uploaded, kept beside the spooled file until the import has run. Once prepared
/// (<see cref="UploadPreviews"/>), a ZIP's list lies unpacked beside it under <see cref="ListName"/>,
/// or the reason the file was refused is in <see cref="ErrorKey"/>; a workbook's sheet names are in <see cref="Sheets"/>.
/// </summary>
public sealed record UploadInfo(int NewsletterId, string FileName, string UserName, string LegalBasis, long Length, DateTime UploadedAtUtc,
    string LegalBasisKind = "", bool Prepared = false, string? ListName = null, string? ErrorKey = null, IReadOnlyList<string>? Sheets = null)
{
    public ImportLegalBasis Basis => new(LegalBasisKind, LegalBasis);
}

/// <summary>
/// Uploaded lists wait in the data folder (data/imports) between upload, preview and the background
/// import: a file of hundreds of megabytes never sits in memory. Ids are GUIDs, never file names.
/// </summary>
public sealed class ImportSpool(IOptions<AppOptions> app, TimeProvider clock)
{
    public string Folder => Path.Combine(app.Value.DataDirectory, "imports");

    public async Task<Guid> SaveAsync(Stream upload, int newsletterId, string fileName, string userName, ImportLegalBasis legalBasis, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var id = Guid.NewGuid();
        long length;
        await using (var target = new FileStream(DataPath(id), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
        {
            await upload.CopyToAsync(target, cancellationToken);
            length = target.Length;
        }
        var info = new UploadInfo(newsletterId, Path.GetFileName(fileName), userName, legalBasis.Text, length, clock.GetUtcNow().UtcDateTime, legalBasis.Kind);
        await File.WriteAllTextAsync(InfoPath(id), JsonSerializer.Serialize(info), cancellationToken);
        return id;
    }

    public UploadInfo? Find(Guid id)
    {
        try
        {
            return File.Exists(InfoPath(id)) && File.Exists(DataPath(id)) ? JsonSerializer.Deserialize<UploadInfo>(File.ReadAllText(InfoPath(id))) : null;
        }
        catch (Exception ex) when (ex is IOException or JsonException) { return null; }
    }

    /// <summary>The upload, or null when this newsletter has none with this id (another newsletter's upload is not its).</summary>
    public UploadInfo? Find(int newsletterId, Guid id) => Find(id) is { } info && info.NewsletterId == newsletterId ? info : null;

    public FileStream Open(Guid id) => OpenRead(DataPath(id));

    /// <summary>The list to read and its name: a ZIP's list unpacked once by <see cref="UploadPreviews"/>, else the upload itself.</summary>
    public (FileStream File, string Name) OpenList(Guid id, UploadInfo info) =>
        info.ListName is { } name ? (OpenRead(ListPath(id)), name) : (Open(id), info.FileName);

    /// <summary>Replaces the upload's info, atomically, so a reader never sees half of it.</summary>
    internal void SaveInfo(Guid id, UploadInfo info) => WriteAtomically(InfoPath(id), JsonSerializer.Serialize(info));

    internal void WriteAtomically(string path, string content)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Where a ZIP's list is unpacked to.</summary>
    internal string ListPath(Guid id) => Path.Combine(Folder, $"{id:N}.list");

    /// <summary>Where the preview of one sheet (or of the list) is kept; a sheet name never becomes part of a path.</summary>
    internal string PreviewPath(Guid id, string? sheet) =>
        Path.Combine(Folder, $"{id:N}.preview-{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sheet ?? "")))[..16]}.json");

    /// <summary>The upload, its info, its unpacked list and its kept previews.</summary>
    public void Delete(Guid id)
    {
        if (!Directory.Exists(Folder)) return;
        foreach (var file in Directory.EnumerateFiles(Folder, $"{id:N}.*")) TryDelete(file);
    }

    private static FileStream OpenRead(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);

    /// <summary>Removes uploads nobody imported (the editor left the preview).</summary>
    public void Sweep(TimeSpan olderThan)
    {
        if (!Directory.Exists(Folder)) return;
        var limit = clock.GetUtcNow().UtcDateTime - olderThan;
        foreach (var file in Directory.EnumerateFiles(Folder))
        {
            if (File.GetLastWriteTimeUtc(file) < limit) TryDelete(file);
        }
    }

    private string DataPath(Guid id) => Path.Combine(Folder, $"{id:N}.upload");
    private string InfoPath(Guid id) => Path.Combine(Folder, $"{id:N}.json");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
