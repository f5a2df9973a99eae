using NewsletterMigrator.Data;

namespace NewsletterMigrator.Common;

/// <summary>
/// A worker's first step (issue 13, point 10): the rows an earlier run of this instance held when it died go
/// back to the queue now instead of after their lease expires. Only when this process holds the instance id
/// (<see cref="InstanceIdentity.EarlierRunsPrefix"/>); a failure here only means the old wait, so it is logged,
/// never thrown. The outbox and the WhatsApp worker each say which rows and why a resend is safe.
/// </summary>
public static class LeaseTakeback
{
    public static async Task RunAsync(InstanceIdentity instance, IServiceScopeFactory scopes, ILogger logger, string rows,
        Func<AppDbContext, string, CancellationToken, Task<int>> release, CancellationToken ct)
    {
        if (instance.EarlierRunsPrefix is not { } prefix) return;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var released = await release(scope.ServiceProvider.GetRequiredService<AppDbContext>(), prefix, ct);
            if (released > 0) logger.LogWarning("Took back {Count} {Rows} an earlier run of this instance held when it stopped; they go out again now", released, rows);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not take back the {Rows} an earlier run held; they return to the queue when their leases expire", rows);
        }
    }
}
