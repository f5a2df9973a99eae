using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Api;

public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>Requests per key and minute, counted across all instances on PostgreSQL; more get 429 with Retry-After.</summary>
    public int RequestsPerMinute { get; set; } = 120;
}

public sealed class ApiOptionsValidator : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options) =>
        options.RequestsPerMinute is < 1 or > 100_000
            ? ValidateOptionsResult.Fail($"Api:RequestsPerMinute must be between 1 and 100000 (it is {options.RequestsPerMinute}).")
            : ValidateOptionsResult.Success;
}
