namespace NewsletterMigrator.Importing;

/// <summary>
/// Marks a page that takes a list upload of up to Import:MaxUploadBytes. <see cref="RequestBodyLimits"/> reads it
/// from the endpoint and raises the body and multipart limits for this page only; every other route keeps the
/// small form limit. Endpoint metadata rather than a Razor Pages convention: conventions registered before
/// AddRazorPages were silently dropped (issue 13), an attribute on the page model cannot be.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class AcceptsUploadAttribute : Attribute;
