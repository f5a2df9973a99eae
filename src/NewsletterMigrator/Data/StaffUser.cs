using Microsoft.AspNetCore.Identity;

namespace NewsletterMigrator.Data;

/// <summary>A staff account: ASP.NET Core Identity's user, with what a newsroom needs beside it.</summary>
public sealed class StaffUser : IdentityUser
{
    /// <summary>When an admin deactivated the account; it cannot sign in and its sessions end at once. Null while active.</summary>
    public DateTime? DeactivatedAtUtc { get; set; }

    /// <summary>When the last invitation went out; the account has no password until the invitee sets one through its link.</summary>
    public DateTime? InvitedAtUtc { get; set; }

    /// <summary>The language of the mails the app sends this person ("de" or "en").</summary>
    public string Language { get; set; } = "de";
}

/// <summary>A newsletter an editor may work on; an editor sees nothing of the others (admins see all, without rows here).</summary>
public sealed class StaffNewsletter
{
    public string UserId { get; set; } = "";
    public int NewsletterId { get; set; }
}
