namespace NewsletterMigrator.Importing;

/// <summary>Why an uploaded list is refused before it is read, the same for the import and the opt-out list pages.</summary>
public static class UploadRefusal
{
    /// <summary>
    /// The message key, or null when the file may be read. A browser sends an empty part without a name when no
    /// file was chosen; a chosen empty file has its name. <see cref="RequestBodyLimits"/> has already sent a
    /// too-large file back; the check stays should a page ever run without it.
    /// </summary>
    public static string? Of(IFormFile? upload, ImportOptions options) => upload switch
    {
        null or { Length: 0, FileName: null or "" } => "Import_NoFile",
        { Length: 0 } => "Import_Empty",
        _ when upload.Length > options.MaxUploadBytes => "Import_TooLarge",
        _ => null,
    };
}
