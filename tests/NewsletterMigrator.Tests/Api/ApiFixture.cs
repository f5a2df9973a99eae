using Microsoft.Extensions.DependencyInjection;
using NewsletterMigrator.Data;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests.Api;

/// <summary>
/// One app for a class of API tests, with two newsletters ("eilmeldungen", "sport") and a clock the tests may move
/// forward. Each test uses keys and addresses of its own, so the tests do not see each other's data.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public SettableClock Clock { get; } = new();
    public AppFactory App { get; }
    public Newsletter News { get; private set; } = null!;
    public Newsletter Sport { get; private set; } = null!;

    public ApiFixture()
    {
        App = new AppFactory(settings: new() { ["Consent:SignUpMinimumDuration"] = "00:00:00.010" })
        {
            TestServices = s => s.AddSingleton<TimeProvider>(Clock),
        };
    }

    public async Task InitializeAsync()
    {
        News = await App.NewsletterAsync("eilmeldungen");
        Sport = await App.NewsletterAsync("sport");
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}
