#if canImport(Glibc)
    import Glibc
#endif

/// The offset of `needle` in `length` bytes at `haystack` (memchr + memcmp; memmem is a GNU
/// extension), for harnesses that scan sinks' output faster than it is written.
public func find(_ needle: [UInt8], in haystack: UnsafeRawPointer, length: Int) -> Int? {
    guard let first = needle.first, length >= needle.count else { return nil }
    var offset = 0
    while offset <= length - needle.count {
        guard let hit = memchr(haystack + offset, Int32(first), length - needle.count + 1 - offset) else { return nil }
        let at = haystack.distance(to: UnsafeRawPointer(hit))
        if memcmp(haystack + at, needle, needle.count) == 0 { return at }
        offset = at + 1
    }
    return nil
}
