using NewsletterMigrator.Testing;

namespace NewsletterMigrator.BrowserTests;

/// <summary>The app on a real Kestrel port for one test class, stopped and cleaned up afterwards.</summary>
public abstract class BrowserTest(Dictionary<string, string?>? settings = null) : IAsyncLifetime
{
    protected AppFactory App { get; } = new(kestrel: true, settings: settings);

    protected string BaseUrl => App.ClientOptions.BaseAddress.ToString();

    public Task InitializeAsync()
    {
        App.StartServer();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}
