using System.Runtime.InteropServices;

namespace NewsletterMigrator.Common;

/// <summary>
/// Keeps glibc's malloc from holding native memory the process no longer uses. SQLite allocates its
/// page caches and statements with malloc on whichever pool thread runs the query, and the JIT
/// compiles into malloc'd scratch memory; glibc keeps what they free.
/// <list type="bullet">
/// <item>Arenas: glibc gives every thread that allocates under contention its own arena (up to 8 per
/// core). A sending campaign spread native memory over a dozen arenas: about 35 MB more peak working
/// set in the send benchmark than with two arenas, at no measurable cost in throughput. Two arenas is
/// what MALLOC_ARENA_MAX=2 does (the Dockerfile sets it); set from code as well, for `dotnet run` and
/// the benchmark. It limits only arenas created later, so it is the first line of Program.cs.</item>
/// <item>Trimming: glibc returns freed memory to the system only from the top of an arena, so after
/// start-up two thirds of the arenas (about 25 of 37 MB in the send benchmark) were free but still
/// resident. <see cref="Trim"/> hands every free page back; <see cref="NativeHeapTrimmer"/> calls it
/// every few seconds.</item>
/// </list>
/// Elsewhere (musl in Alpine images, macOS, Windows) there are no such arenas and both do nothing.
/// </summary>
internal static class NativeHeap
{
    private const int MallocArenaMax = -8; // M_ARENA_MAX in glibc's malloc.h

    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static bool _isGlibc = OperatingSystem.IsLinux();

    public static void LimitMallocArenas(int arenas = 2)
    {
        if (!_isGlibc || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null) return;
        try { Mallopt(MallocArenaMax, arenas); }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { _isGlibc = false; }
    }

    /// <summary>Returns the free pages of every malloc arena to the system; true if any were returned.</summary>
    public static bool Trim()
    {
        if (!_isGlibc) return false;
        try { return MallocTrim(0) == 1; }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _isGlibc = false;
            return false;
        }
    }
}
