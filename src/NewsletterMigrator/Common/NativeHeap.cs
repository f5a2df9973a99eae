using System.Runtime.InteropServices;

namespace NewsletterMigrator.Common;

/// <summary>
/// glibc gives every thread that allocates under contention its own malloc arena (up to 8 per core),
/// and an arena keeps what was freed. SQLite allocates its page caches and statements with malloc on
/// whichever pool thread runs the query, so a sending campaign spread native memory over a dozen
/// arenas: about 35 MB more peak working set in the send benchmark than with two arenas, at no
/// measurable cost in throughput. Two arenas is what MALLOC_ARENA_MAX=2 does (the Dockerfile sets it);
/// set from code as well, for `dotnet run` and the benchmark. It limits only arenas created later, so
/// it is the first line of Program.cs; threads the runtime started before Main keep theirs.
/// </summary>
internal static class NativeHeap
{
    private const int MallocArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    public static void LimitMallocArenas(int arenas = 2)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { Mallopt(MallocArenaMax, arenas); }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl in Alpine images): its allocator has no arenas to limit.
        }
    }
}
