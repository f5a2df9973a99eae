using System.ComponentModel.DataAnnotations;

namespace NewsletterMigrator.Subscribers;

public sealed class ManageOptions
{
    public const string Section = "Manage";

    /// <summary>Lifetime of the link that opens export, change of address and erasure (C33).</summary>
    public TimeSpan AccessLinkLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>At most one such mail per interval, so the button cannot flood an inbox.</summary>
    public TimeSpan AccessLinkInterval { get; set; } = TimeSpan.FromMinutes(5);
}

public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>Berlin time of the daily run, "HH:mm".</summary>
    public string DailyAt { get; set; } = "03:30";

    /// <summary>Unconfirmed sign-ups are deleted after this (C15).</summary>
    public TimeSpan UnconfirmedAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Consent proof is kept until the end of this many calendar years after the year of the last mail (C17).</summary>
    [Range(0, 30)]
    public int ConsentProofYears { get; set; } = 3;

    /// <summary>Delivered outbox rows lose their address and SMTP reply after this many days.</summary>
    [Range(1, 3650)]
    public int OutboxDays { get; set; } = 30;

    // A method, not a property: the data-annotations validator reads every property, also of an invalid value.
    public TimeOnly DailyAtTime() => TimeOnly.ParseExact(DailyAt, "HH:mm", System.Globalization.CultureInfo.InvariantCulture);
}
