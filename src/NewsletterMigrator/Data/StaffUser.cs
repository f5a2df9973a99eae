using Microsoft.AspNetCore.Identity;

namespace NewsletterMigrator.Data;

/// <summary>A staff account: ASP.NET Core Identity's user, with what a newsroom needs beside it.</summary>
public sealed class StaffUser : IdentityUser
{
}
