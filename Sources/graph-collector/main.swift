import CollectorRuntime

#if canImport(Glibc)
    import Glibc

    // glibc gives threads that allocate their own malloc arenas (up to 8 per core), and each keeps
    // what it freed: with libcurl, file and sink threads that inflates peak RSS for nothing. Two
    // arenas measured 127 MiB → 91 MiB on a 100,000-alert backfill (Benchmarks/README.md).
    // MALLOC_ARENA_MAX in the environment still wins. mallopt is looked up because Swift's Glibc
    // module does not include <malloc.h>; M_ARENA_MAX is -8 there.
    if getenv("MALLOC_ARENA_MAX") == nil, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 2)
    }
#endif

await CollectorMain.main()
