namespace NewsletterMigrator.Bench;

/// <summary>The figures the benches print from repeated timings.</summary>
internal static class Percentiles
{
    /// <summary>The value below which the share <paramref name="p"/> of the samples lie (0.5: the median).</summary>
    public static double Of(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
    }
}
