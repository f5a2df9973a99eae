using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using NewsletterMigrator.Common;
using NewsletterMigrator.Data;

namespace NewsletterMigrator.Staff;

public static class Roles
{
    public const string Admin = "Admin";
    public const string Editor = "Editor";
    public static readonly string[] All = [Admin, Editor];
}

public static class StaffIdentitySetup
{
    /// <summary>How long "remember this browser" spares the second sign-in step.</summary>
    public static readonly TimeSpan TwoFactorRememberBrowser = TimeSpan.FromDays(30);

    public static WebApplicationBuilder AddStaffIdentity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<StaffSignInOptions>().BindConfiguration(StaffSignInOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StaffSignInOptions>, StaffSignInOptionsValidator>();
        services.AddAuthentication(IdentityConstants.ApplicationScheme).AddIdentityCookies();
        services.AddIdentityCore<StaffUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.User.AllowedUserNameCharacters = ""; // any character: the user name is the address, checked by EmailAddress.TryNormalize (o'neil@… too)
                options.Password.RequiredLength = 12;
                options.Password.RequireNonAlphanumeric = false;
                // Length beats composition rules (NIST SP 800-63B). Identity's lower-case rule knows only a-z: it refused
                // all-caps passphrases and every Cyrillic, Greek or CJK one.
                options.Password.RequireUppercase = false;
                options.Password.RequireLowercase = false;
                options.Password.RequireDigit = false;
                options.Lockout.AllowedForNewUsers = true;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager<StaffSignInManager>()
            .AddDefaultTokenProviders()
            // Under Identity's own name, so no way through TokenOptions reaches its provider, which takes a code twice.
            .AddTokenProvider<OneTimeAuthenticatorTokenProvider>(TokenOptions.DefaultAuthenticatorProvider)
            .AddTokenProvider<InvitationTokenProvider>(InvitationTokenProvider.Name)
            .AddTokenProvider<PasswordResetTokenProvider>(PasswordResetTokenProvider.Name)
            .AddErrorDescriber<LocalizedIdentityErrors>()
            .AddPasswordValidator<CommonPasswordValidator>();
        services.AddOptions<IdentityOptions>().Configure<IOptions<StaffSignInOptions>>((identity, signIn) =>
        {
            identity.Lockout.MaxFailedAccessAttempts = signIn.Value.LockoutAfterFailures;
            identity.Lockout.DefaultLockoutTimeSpan = signIn.Value.LockoutDuration;
            identity.Tokens.PasswordResetTokenProvider = PasswordResetTokenProvider.Name;
            identity.Tokens.AuthenticatorTokenProvider = TokenOptions.DefaultAuthenticatorProvider;
        });
        // After AddEntityFrameworkStores: the authenticator key encrypted, recovery codes only as keyed hashes.
        services.AddScoped<IUserStore<StaffUser>, ProtectedUserStore>();
        // The sign-in cookie is checked against the account on every request, not every 30 minutes (Identity's default):
        // a deactivated colleague, a changed role or newsletter list, a reset 2FA, "sign out everywhere" and a password
        // change take effect on the very next click of every other session (each renews the security stamp). The cost per staff request: the account, its roles and claims read
        // by key from a SQLite file on the same machine, and the cookie issued afresh. Measured with the bench verb
        // staff-request (both intervals in one process, README "Benchmarks"), GET /admin/staff on a loaded 2-core box:
        // 144 against 210 requests/s, median 5.35 against 3.59 ms, 353 against 248 KB allocated per request (1.46x the
        // time, 1.42x the allocations). Staff are a handful of people clicking, not a load; readers' pages carry no
        // staff cookie and pay nothing.
        services.Configure<SecurityStampValidatorOptions>(options => options.ValidationInterval = TimeSpan.Zero);
        services.AddOptions<StaffMailOptions>().BindConfiguration(StaffMailOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StaffMailOptions>, StaffMailOptionsValidator>();
        services.AddSingleton<DummyPasswordHash>();
        services.AddRateLimiter(options => options.AddPolicy<string, SignInRateLimits>(SignInRateLimits.Policy));
        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/denied";
            options.Cookie.Name = "nm.staff";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            // Secure on https requests; PublicScheme makes every request https when App:PublicBaseUrl is (issue 13).
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromHours(8);
            // Signing in on the login page and out on the logout page, the handler itself redirects to the
            // query's ReturnUrl; the one rule for redirect targets applies there too (a raw "ü" answered 500).
            options.Events.OnRedirectToReturnUrl = context =>
            {
                context.Response.Redirect(LocalRedirectTarget.OrFallback(context.RedirectUri, "/"));
                return Task.CompletedTask;
            };
        });
        // The second sign-in step's short-lived cookie and the "remember this browser" cookie: named like the
        // others, Secure on https like the others (issue 15), and the remembered browser for 30 days.
        services.Configure<CookieAuthenticationOptions>(IdentityConstants.TwoFactorUserIdScheme, options =>
        {
            options.Cookie.Name = "nm.2fa";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            TwoFactorStepCookie.Configure(options);
        });
        services.Configure<CookieAuthenticationOptions>(IdentityConstants.TwoFactorRememberMeScheme, options =>
        {
            options.Cookie.Name = "nm.2fa.remember";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.ExpireTimeSpan = TwoFactorRememberBrowser;
        });
        services.AddAuthorizationBuilder().AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin));
        services.AddSingleton<SetupCode>();
        services.AddScoped<StaffAccounts>();
        services.AddScoped<StaffSecurityPolicies>();
        services.AddScoped<StaffTwoFactor>();
        services.AddScoped<OwnAccount>();
        services.AddScoped<StaffDirectory>();
        services.AddScoped<StaffPasswordLinks>();
        services.AddScoped<StaffMail>();
        services.AddScoped<NewsletterScope>();
        services.AddSingleton<PasswordResetMailer>();
        services.AddHostedService(sp => sp.GetRequiredService<PasswordResetMailer>());
        return builder;
    }
}
