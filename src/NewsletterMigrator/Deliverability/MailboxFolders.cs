using MailKit;
using MailKit.Net.Imap;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Deliverability;

/// <summary>
/// The folders the reader files mails in: one per <see cref="ReportKind"/> under <see cref="BounceMailboxOptions.OutcomeFolder"/>,
/// named in English so staff recognise them in any mail client, and a plain one for what needs a person.
/// </summary>
public static class MailboxFolders
{
    /// <summary>Where the mails the classifier could not place wait for a person (C44); the dashboard counts them.</summary>
    public const string NeedsAttention = "NeedsAttention";

    public static string NameOf(ReportKind kind) => kind == ReportKind.Unknown ? NeedsAttention : kind.ToString();
}

/// <summary>
/// The outcome folders of one IMAP connection, found or created on first use. The parent goes at the top of the
/// account's personal namespace, so the separator ('.' or '/') and a prefix such as "INBOX." are the server's.
/// New folders are subscribed: many mail clients show only subscribed ones.
/// </summary>
internal sealed class OutcomeFolders(ImapClient client, string parentName)
{
    private readonly Dictionary<string, IMailFolder> _folders = new(StringComparer.Ordinal);
    private IMailFolder? _parent;

    public Task<IMailFolder> ForAsync(ReportKind kind, CancellationToken ct) => GetAsync(MailboxFolders.NameOf(kind), ct);

    public Task<IMailFolder> NeedsAttentionAsync(CancellationToken ct) => GetAsync(MailboxFolders.NeedsAttention, ct);

    private async Task<IMailFolder> GetAsync(string name, CancellationToken ct)
    {
        if (_folders.TryGetValue(name, out var known)) return known;
        _parent ??= await SubfolderAsync(client.GetFolder(client.PersonalNamespaces[0]), parentName, ct);
        var folder = await SubfolderAsync(_parent, name, ct);
        _folders[name] = folder;
        return folder;
    }

    private static async Task<IMailFolder> SubfolderAsync(IMailFolder parent, string name, CancellationToken ct)
    {
        try
        {
            return await parent.GetSubfolderAsync(name, ct);
        }
        catch (FolderNotFoundException)
        {
            var created = await parent.CreateAsync(name, isMessageFolder: true, ct);
            await created!.SubscribeAsync(ct);
            return created;
        }
    }
}
