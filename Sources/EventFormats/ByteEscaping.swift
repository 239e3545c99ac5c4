/// The scan every text format runs over every value: find the few bytes that need escaping
/// (control characters, DEL and up to three chosen bytes) and copy the runs between them whole.
///
/// Eight bytes are checked at a time with the word tricks of "Bit Twiddling Hacks" (a word has
/// a byte below n, or a zero byte after an XOR with the byte repeated): most values hold nothing
/// to escape, so most words are copied without looking at their bytes one by one.
struct ByteEscaping {
    let special: (UInt8, UInt8, UInt8)
    private let words: (UInt64, UInt64, UInt64)

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Escapes control characters (below 0x20), DEL (0x7F) and the three given bytes; to escape
    /// fewer than three, pass one of them twice.
    init(_ a: UInt8, _ b: UInt8, _ c: UInt8) {
        special = (a, b, c)
        words = (UInt64(a) &* Self.ones, UInt64(b) &* Self.ones, UInt64(c) &* Self.ones)
    }

    @inline(__always)
    func isSpecial(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == special.0 || byte == special.1 || byte == special.2
    }

    /// Whether the word holds a special byte. Exact as a yes or no (a word without one always
    /// gives false); it does not say which byte, so a word that gives true is read byte by byte.
    @inline(__always)
    func mayHoldSpecial(_ word: UInt64) -> Bool {
        @inline(__always) func hasZero(_ x: UInt64) -> Bool { (x &- Self.ones) & ~x & Self.highs != 0 }
        let below0x20 = (word &- 0x2020_2020_2020_2020) & ~word & Self.highs != 0
        return below0x20 || hasZero(word ^ 0x7F7F_7F7F_7F7F_7F7F) || hasZero(word ^ words.0)
            || hasZero(word ^ words.1) || hasZero(word ^ words.2)
    }

    /// Appends `bytes` to `out`; each special byte is handed to `escape`, which appends what
    /// stands for it.
    @inline(__always)
    func append(
        _ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], escape: (UInt8, inout [UInt8]) -> Void
    ) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        var run = 0
        var i = 0
        while i < count {
            if i + 8 <= count {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                if !mayHoldSpecial(word) {
                    i += 8
                    continue
                }
            }
            let end = min(i + 8, count)
            while i < end {
                let byte = base[i]
                if isSpecial(byte) {
                    if i > run { out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run)) }
                    escape(byte, &out)
                    run = i + 1
                }
                i += 1
            }
        }
        if run < count { out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: count - run)) }
    }

    /// ``append(_:to:escape:)`` for a String's UTF-8.
    @inline(__always)
    func append(_ text: String, to out: inout [UInt8], escape: (UInt8, inout [UInt8]) -> Void) {
        var text = text
        text.withUTF8 { append($0, to: &out, escape: escape) }
    }

    /// Whether any byte of `text` is special.
    func holdsSpecial(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var i = 0
            if let base = bytes.baseAddress {
                while i + 8 <= bytes.count {
                    if mayHoldSpecial(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) { break }
                    i += 8
                }
            }
            while i < bytes.count {
                if isSpecial(bytes[i]) { return true }
                i += 1
            }
            return false
        }
    }
}
