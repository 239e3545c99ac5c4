import CollectorRuntime

#if canImport(Glibc)
    import Glibc

    // glibc gives threads that allocate their own malloc arenas (up to 8 per core), and each keeps
    // what it freed: with libcurl, file and sink threads that inflates peak RSS for nothing. Two
    // arenas measured 127 MiB → 91 MiB on a 100,000-alert backfill, one arena another 3–4 MiB
    // less at Graph's pace, at no measurable CPU cost: the threads' own caches (tcache) serve
    // most small blocks without the arena's lock (Benchmarks/README.md §5).
    // MALLOC_ARENA_MAX (or GLIBC_TUNABLES) in the environment still wins. mallopt is looked up
    // because Swift's Glibc module does not include <malloc.h>; M_ARENA_MAX is -8 there.
    //
    // Blocks of 256 KiB and more (response bodies, a page's text, a sink's batch buffer) are
    // mapped on their own and unmapped when freed (M_MMAP_THRESHOLD, -3), instead of glibc raising
    // its threshold after the first such free and keeping them in the heap from then on, where
    // they fragment it: 101 MiB → 93 MiB on the same backfill. MALLOC_MMAP_THRESHOLD_ (or
    // GLIBC_TUNABLES) still wins.
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let tunables = getenv("GLIBC_TUNABLES").map { String(cString: $0) } ?? ""
        if getenv("MALLOC_ARENA_MAX") == nil, !tunables.contains("glibc.malloc.arena_max") { _ = mallopt(-8, 1) }
        if getenv("MALLOC_MMAP_THRESHOLD_") == nil, !tunables.contains("glibc.malloc.mmap_threshold") {
            _ = mallopt(-3, 256 * 1024)
        }
    }
#endif

await CollectorMain.main()
