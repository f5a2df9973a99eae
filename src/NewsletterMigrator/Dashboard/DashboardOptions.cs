namespace NewsletterMigrator.Dashboard;

/// <summary>When the dashboard starts to warn; every threshold is a setting, since operators' schedules differ.</summary>
public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>A last backup older than this is shown as overdue: a daily backup plus two hours of slack.</summary>
    public TimeSpan BackupWarnAfter { get; set; } = TimeSpan.FromHours(26);
    /// <summary>A sign-up, test or link mail due for longer than this means nothing is sending.</summary>
    public TimeSpan MailWaitingWarnAfter { get; set; } = TimeSpan.FromMinutes(15);
    /// <summary>How far back failed mails count as "SMTP failing".</summary>
    public TimeSpan MailFailureWindow { get; set; } = TimeSpan.FromHours(1);
}
