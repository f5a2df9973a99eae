using System.Globalization;
using Microsoft.Extensions.Localization;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Inviting;

/// <summary>
/// How staff read the portfolio's state and the forecast (<see cref="WhatsAppForecast"/>): one place for the wording rules,
/// so the WhatsApp page and the dashboard's pause banner say the same. Times are German time (<see cref="Berlin"/>).
/// </summary>
public static class WhatsAppStateText
{
    /// <summary>Counts as the reader's language writes them: 2.000 in German, 2,000 in English.</summary>
    public static string Number(long n) => n.ToString("N0", CultureInfo.CurrentCulture);

    public static string Limit(EffectiveLimit limit, IStringLocalizer text) =>
        limit.Value is { } value ? Number(value) : text["WaScale_Unlimited"];

    /// <summary>Where the limit comes from: Meta's own word (with when it was read) beats the setting, which beats 250.</summary>
    public static string LimitSource(EffectiveLimit limit, IStringLocalizer text) => limit.Source switch
    {
        Inviting.LimitSource.Graph => text["WaScale_SourceGraph", Berlin.Format(limit.AtUtc)],
        Inviting.LimitSource.Webhook => text["WaScale_SourceWebhook", Berlin.Format(limit.AtUtc)],
        Inviting.LimitSource.Setting => text["WaScale_SourceSetting"],
        _ => text["WaScale_SourceNewPortfolio", Number(WhatsAppAccounts.NewPortfolioLimit)],
    };

    /// <summary>Meta's rating as Meta writes it (GREEN, YELLOW, RED), and what YELLOW does to the pace.</summary>
    public static string Quality(WhatsAppAccount account, IStringLocalizer text) =>
        (string.IsNullOrEmpty(account.QualityRating) ? text["WaScale_QualityUnknown"] : account.QualityRating)
        + (WhatsAppAccounts.HalfPace(account) ? " – " + text["WaScale_QualityHalfPace"] : "");

    /// <summary>When the last of <paramref name="queued"/> invitations would go out; a queue beyond the simulation's horizon has no date.</summary>
    public static string Finish(DateTime? lastSendUtc, long queued, IStringLocalizer text) =>
        queued == 0 ? text["WaScale_NothingQueued"]
        : lastSendUtc is { } last ? Berlin.Format(last)
        : text["WaScale_NoEnd", WhatsAppPacing.Horizon.Days / 366];

    /// <summary>The sending hours, the batch interval and the batch size the pacing spreads the daily budget over.</summary>
    public static string Pacing(WhatsAppPacing pacing, IStringLocalizer text)
    {
        var interval = pacing.BatchInterval;
        var every = interval.Ticks % TimeSpan.TicksPerHour == 0
            ? text["WaScale_EveryHours", Number((long)interval.TotalHours)]
            : text["WaScale_EveryMinutes", Number((long)Math.Ceiling(interval.TotalMinutes))];
        var size = pacing.BatchSize is { } batch ? text["WaScale_BatchSize", Number(batch), Number(pacing.DailyBudget!.Value)] : text["WaScale_BatchUnlimited"];
        return text["WaScale_Pacing", pacing.Hours.ToString(), every, size];
    }

    /// <summary>"With a limit of 2,000: done on …", and whether even that is after the migration end.</summary>
    public static string HigherLimit(LimitAlternative alternative, long queued, DateTime? migrationEndsAtUtc, IStringLocalizer text)
    {
        var line = alternative.LastSendUtc is { } last
            ? text["WaScale_HigherLimit", Number(alternative.Limit), Berlin.Format(last)].Value
            : text["WaScale_HigherLimitNoEnd", Number(alternative.Limit), Finish(null, queued, text)].Value;
        var tooLate = migrationEndsAtUtc is { } end && !(alternative.LastSendUtc <= end);
        return tooLate ? line + " – " + text["WaScale_HigherLimitStillLate"] : line;
    }

    /// <summary>What Meta's error code means, in the reader's language (the English table in WhatsAppErrors is Meta's wording for the README).</summary>
    public static string ErrorMeaning(int? code, IStringLocalizer text) =>
        code is null ? text["WaScale_ErrorNoCode"]
        : WhatsAppErrors.Find(code) is null ? text["WaScale_ErrorUnknownCode"]
        : text["WaError_" + code];

    public static string PauseKind(WhatsAppPause? kind, IStringLocalizer text) => text["WaScale_Pause_" + (kind?.ToString() ?? "Unknown")];
}
