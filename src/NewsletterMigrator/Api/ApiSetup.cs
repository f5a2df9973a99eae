using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace NewsletterMigrator.Api;

/// <summary>The REST API under /api/v1 with API keys (issue 19): one door to register it, one to map it.</summary>
public static class ApiSetup
{
    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        services.AddScoped<ApiKeyService>();
        services.AddSingleton<ApiRateLimit>();
        services.AddScoped<ApiReference>();
        // Not the default scheme: only the API's policies name it (ApiAuthorization), so the staff cookie stays the admin
        // area's and never authorizes an API call.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        ApiAuthorization.AddScopePolicies(services.AddAuthorizationBuilder());
        services.AddProblemDetails();
        services.AddApiOpenApi();
        return builder;
    }

    /// <summary>
    /// Maps the API and puts its guard (<see cref="ApiRequestGuard"/>) into the pipeline where this is called: after the
    /// status-code pages, before routing, so that every answer under /api/v1 is a problem document.
    /// </summary>
    public static WebApplication MapApi(this WebApplication app)
    {
        app.UseMiddleware<ApiRequestGuard>();
        var api = app.MapGroup(ApiRequestGuard.BasePath)
            .AddEndpointFilter((context, next) => context.HttpContext.RequestServices.GetRequiredService<ApiRateLimit>().InvokeAsync(context, next))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesValidationProblem();
        var newsletter = api.MapGroup("/newsletters/{slug}");
        newsletter.MapCampaignEndpoints();
        newsletter.MapStatisticsEndpoints();
        newsletter.MapSignUpEndpoints();
        newsletter.MapWithdrawalEndpoints();
        newsletter.MapFeedEndpoints();
        api.MapSuppressionEndpoints();
        app.MapOpenApi(ApiOpenApi.DocumentPath);
        return app;
    }
}
