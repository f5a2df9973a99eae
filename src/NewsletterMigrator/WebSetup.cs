using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.Extensions.WebEncoders;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Api;
using NewsletterMigrator.Common;
using NewsletterMigrator.Inviting;
using NewsletterMigrator.Newsletters;
using NewsletterMigrator.Sending;
using NewsletterMigrator.Staff;

namespace NewsletterMigrator;

public static class WebSetup
{
    public static WebApplicationBuilder AddWebFrontEnd(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddLocalization(options => options.ResourcesPath = "Resources");
        services.Configure<RequestLocalizationOptions>(options =>
        {
            var cultures = Languages.Supported.Select(CultureInfo.GetCultureInfo).ToList();
            options.DefaultRequestCulture = new RequestCulture("de");
            options.SupportedCultures = cultures;
            options.SupportedUICultures = cultures;
            // A reader's explicit choice (cookie) wins over the browser's Accept-Language. The embed page's error
            // answers follow the embed page's URL instead, as the page itself does (EmbedLanguageAttribute).
            options.RequestCultureProviders = [new Pages.Join.EmbedErrorCultureProvider(), new CookieRequestCultureProvider(), new AcceptLanguageHeaderRequestCultureProvider()];
        });
        services.AddRazorPages(options =>
            {
                options.Conventions.AuthorizeFolder("/Admin");
                options.Conventions.AuthorizeFolder("/Admin/Newsletters", Roles.Admin);
                options.Conventions.AuthorizeFolder("/Admin/Privacy", Roles.Admin);
                options.Conventions.AuthorizeFolder("/Admin/Security", Roles.Admin);
                options.Conventions.AuthorizeFolder("/Account/Manage");
                options.Conventions.AuthorizeFolder("/Admin/Staff", Roles.Admin);
                options.Conventions.Add(new PageHttpMethodsConvention());
            })
            // Any posted value other than "true" is an unticked checkbox, never a model error (issue 13).
            .AddMvcOptions(options => options.ModelBinderProviders.Insert(0, new CheckboxBinderProvider()))
            .AddViewLocalization()
            .AddDataAnnotationsLocalization(o => o.DataAnnotationLocalizerProvider = (_, factory) => factory.Create(typeof(SharedResource)));
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "nm.af";
            // Antiforgery's own default is never Secure; this follows the request, which PublicScheme makes https
            // whenever App:PublicBaseUrl is (Always would throw on a plain-http request instead).
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // SecurityHeaders says DENY on every page; antiforgery's own SAMEORIGIN would come first (issue 13).
            options.SuppressXFrameOptionsHeader = true;
        });
        builder.WebHost.ConfigureKestrel(options =>
        {
            // No "Server: Kestrel": nothing a probe needs to know.
            options.AddServerHeader = false;
            // Small for every route; RequestBodyLimits raises it on the upload pages only (issue 13).
            options.Limits.MaxRequestBodySize = RequestBodyLimits.FormBytes;
        });
        // German text stays readable (and smaller) in the HTML instead of becoming &#xE4; entities.
        services.Configure<WebEncoderOptions>(options => options.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));

        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the configured proxies are trusted, not loopback by default: otherwise anyone reaching
            // the app directly could write any IP into the consent proof (C7). A proxy on the same host
            // is configured as App:KnownProxies = ["127.0.0.1"]. With empty lists the middleware would
            // trust everyone, so without configured proxies it is not used at all (UseWebFrontEnd).
            options.KnownIPNetworks.Clear();
            options.KnownProxies.Clear();
#pragma warning disable ASPDEPR005 // clear the older (obsolete) network list as well, whichever one the middleware reads
            options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
            foreach (var proxy in builder.Configuration.GetSection("App:KnownProxies").Get<string[]>() ?? [])
            {
                if (IPAddress.TryParse(proxy, out var address)) options.KnownProxies.Add(address);
            }
        });
        services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));
        services.AddStaticAssets();
        services.AddPageCompression();
        return builder;
    }

    public static WebApplication UseWebFrontEnd(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AppOptions>>().Value;
        if (options.KnownProxies.Length > 0) app.UseForwardedHeaders();
        // After the forwarded headers, before anything that reads the scheme (HSTS, cookies, antiforgery).
        if (PublicScheme.Applies(options)) app.UseMiddleware<PublicScheme>();
        if (app.Environment.IsDevelopment()) app.UseDeveloperExceptionPage();
        else app.UseExceptionHandler("/error");
        if (options.UseHsts) app.UseHsts();
        app.UseMiddleware<SecurityHeaders>();
        app.UseStatusCodePagesWithReExecute("/error", "?code={0}");
        app.MapApi(); // the REST API and its guard, which answers every /api/v1 error as a problem document

        // The root wwwroot (the content root's) is served directly, compressed and cached (StaticAssets); MapStaticAssets only
        // knows the project folder. Pages are compressed after it, so a static file is never compressed per request.
        app.UseStaticAssets();
        app.UseResponseCompression();
        app.UseRequestLocalization();
        app.UseRouting();
        // C31: after the forwarded headers, so the limit applies to the real client; after routing, so a
        // page's [EnableRateLimiting] policy (staff sign-in) is known.
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<TwoFactorGate>(); // after authorization: it needs the signed-in staff member and their roles
        app.UseMiddleware<NewsletterScopeMiddleware>(); // an editor's newsletters only; before any body is read
        app.UseMiddleware<RequestBodyLimits>(); // needs the endpoint; after authorization, so only staff make it read an upload

        app.MapRazorPages();
        // Health checks answer every method unless told otherwise; like every page, only what is served (issue 13).
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync }).AllowAnonymous()
            .WithMetadata(new HttpMethodMetadata(["GET", "HEAD"]));
        app.MapGet("/language/{culture}", SetLanguage);
        app.MapInviting();
        app.MapNewsletterLogos();
        NewsletterMigrator.Archive.ArchiveSetup.MapArchive(app); // the archive's RSS feed (issue 21); its pages are Razor pages
        if (app.Environment.IsDevelopment()) app.MapDevMailbox();

        if (app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value.UsesPickup)
        {
            var pickup = MailTransportFactory.PickupDirectory(app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value,
                app.Services.GetRequiredService<IOptions<AppOptions>>().Value);
            app.Logger.LogWarning("Smtp:Host is not set: mails are written to the pickup folder {Folder}", Path.GetFullPath(pickup));
        }
        app.Lifetime.ApplicationStarted.Register(() => AnnounceSetupCode(app));
        return app;
    }

    private static IResult SetLanguage(string culture, string? returnUrl, HttpContext context)
    {
        var language = Languages.Normalize(culture);
        context.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
            CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language)),
            new CookieOptions { Expires = DateTimeOffset.UtcNow.AddYears(1), IsEssential = true, SameSite = SameSiteMode.Lax, HttpOnly = true, Secure = context.Request.IsHttps });
        // Only local paths: the switcher must not become an open redirect, and an odd value goes to the start page.
        return Results.LocalRedirect(LocalRedirectTarget.OrFallback(returnUrl, "/"));
    }

    private static Task WriteHealthAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => e.Value.Status.ToString()),
        }));
    }

    private static void AnnounceSetupCode(WebApplication app)
    {
        using var scope = app.Services.CreateScope();
        if (scope.ServiceProvider.GetRequiredService<StaffAccounts>().AnyAsync().GetAwaiter().GetResult()) return;
        var code = app.Services.GetRequiredService<SetupCode>().Value;
        app.Logger.LogWarning("No staff account exists yet. Open /setup and enter the one-time setup code {SetupCode}, or run: dotnet run --project src/NewsletterMigrator -- create-admin <email>", code);
    }
}
