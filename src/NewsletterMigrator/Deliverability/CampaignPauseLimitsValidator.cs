using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Deliverability;

/// <summary>The self-pause limits of <see cref="BouncesOptions"/>; each failure names its configuration key.</summary>
public sealed class CampaignPauseLimitsValidator : IValidateOptions<BouncesOptions>
{
    public ValidateOptionsResult Validate(string? name, BouncesOptions o)
    {
        var errors = new List<string>();
        if (o.PauseAtComplaintPercent is <= 0 or > 100)
            errors.Add($"Bounces:PauseAtComplaintPercent must be greater than 0 and at most 100, in percent (was {o.PauseAtComplaintPercent}; the default 0.3 is the rate Google and Yahoo tell bulk senders never to reach).");
        if (o.PauseAtHardBouncePercent is <= 0 or > 100)
            errors.Add($"Bounces:PauseAtHardBouncePercent must be greater than 0 and at most 100, in percent (was {o.PauseAtHardBouncePercent}; default 5).");
        if (o.RateMinimumAccepted < 1)
            errors.Add($"Bounces:RateMinimumAccepted must be 1 or more (was {o.RateMinimumAccepted}; default 200).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
