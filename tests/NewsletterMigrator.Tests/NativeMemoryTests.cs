using System.Runtime.InteropServices;
using NewsletterMigrator.Common;
using NewsletterMigrator.Testing;

namespace NewsletterMigrator.Tests;

/// <summary>
/// Native memory that SQLite and the JIT free must go back to the system while the app runs, so a
/// long campaign or a large import does not leave the server's memory at its busiest moment's size.
/// Residency is read page by page with mincore(2), so other tests allocating in parallel do not matter.
/// </summary>
public sealed class NativeMemoryTests
{
    private const int Blocks = 2048;
    private const int BlockSize = 16 * 1024; // well below glibc's mmap threshold: these come from a malloc arena

    [GlibcFact]
    public async Task The_running_app_hands_freed_native_memory_back_to_the_system()
    {
        await using var app = new AppFactory();
        _ = app.Services; // starts the host and its hosted services

        var freed = AllocateTouchAndFree();
        var resident = ResidentFraction(freed);
        for (var waited = TimeSpan.Zero; resident > 0.5 && waited < NativeHeapTrimmer.Period * 4; waited += TimeSpan.FromMilliseconds(100))
        {
            await Task.Delay(100);
            resident = ResidentFraction(freed);
        }

        Assert.True(resident <= 0.5, $"{resident:P0} of 32 MB of freed native memory is still resident after {NativeHeapTrimmer.Period * 4}");
    }

    [GlibcFact]
    public void Freed_native_memory_stays_resident_until_the_heap_is_trimmed()
    {
        // Straight after free() glibc still holds the pages; that is what the trimmer is for. The trimmer of
        // another test's app, running in parallel, may trim in between: then the round is repeated.
        var (freed, resident) = (Array.Empty<nint>(), 0.0);
        for (var round = 0; round < 3 && resident <= 0.9; round++)
        {
            freed = AllocateTouchAndFree();
            resident = ResidentFraction(freed);
        }
        Assert.True(resident > 0.9, "glibc returned interior pages of freed chunks by itself");

        NativeHeap.Trim();
        Assert.True(ResidentFraction(freed) <= 0.5, "malloc_trim left the freed pages resident");
    }

    /// <summary>32 MB in 16 KB blocks, each written so it is resident, then freed behind a live block
    /// (so the free space is inside the arena, not at its top, which glibc would release by itself).</summary>
    private static unsafe nint[] AllocateTouchAndFree()
    {
        var blocks = new nint[Blocks];
        for (var i = 0; i < Blocks; i++)
        {
            blocks[i] = (nint)NativeMemory.Alloc(BlockSize);
            new Span<byte>((void*)blocks[i], BlockSize).Fill(0xA5);
        }
        // The fence is carved from the arena's top right after the last block, so it keeps the freed space below it.
        Fences.Add((nint)NativeMemory.Alloc(BlockSize)); // kept for the life of the test process
        foreach (var block in blocks) NativeMemory.Free((void*)block);
        return blocks;
    }

    private static readonly System.Collections.Concurrent.ConcurrentBag<nint> Fences = [];

    /// <summary>The share of the freed blocks' whole pages that are resident.</summary>
    private static unsafe double ResidentFraction(nint[] blocks)
    {
        var page = Environment.SystemPageSize;
        long pages = 0, resident = 0;
        var vector = new byte[BlockSize / page + 1];
        foreach (var block in blocks)
        {
            // Only whole pages inside the block: the first and last hold chunk headers that stay in use.
            var start = (block + page - 1) & ~(nint)(page - 1);
            var end = (block + BlockSize) & ~(nint)(page - 1);
            if (end <= start) continue;
            fixed (byte* v = vector)
                if (Mincore(start, (nuint)(end - start), v) != 0) throw new InvalidOperationException($"mincore failed: {Marshal.GetLastPInvokeError()}");
            var count = (int)((end - start) / page);
            pages += count;
            for (var i = 0; i < count; i++) resident += vector[i] & 1;
        }
        return (double)resident / pages;
    }

    [DllImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static extern unsafe int Mincore(nint address, nuint length, byte* vector);
}

/// <summary>A fact about glibc's malloc, which the app's Linux servers and containers use.</summary>
public sealed class GlibcFactAttribute : FactAttribute
{
    public GlibcFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal))
            Skip = "glibc's malloc arenas exist only on glibc-based Linux";
    }
}
