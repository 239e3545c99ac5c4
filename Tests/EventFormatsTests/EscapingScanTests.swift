import CollectorCore
import CollectorTesting
import EventFormats
import Foundation
import Testing

/// The value escaping checks eight bytes at a time; these compare it, on random values with the
/// bytes that need escaping at every position of a word, against escaping byte by byte.
@Suite struct EscapingScanTests {
    /// LEEF escaping written the plain way, from the encoder's documentation.
    static func escapedByteByByte(_ value: [UInt8], delimiter: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        for b in value {
            switch b {
            case 0x5C: out += Array("\\\\".utf8)
            case 0x3D: out += Array("\\=".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case _ where b < 0x20 || b == 0x7F || b == delimiter:
                out += Array(String(format: "\\x%02X", b).utf8)
            default: out.append(b)
            }
        }
        return out
    }

    @Test func theWordAtATimeScanEscapesExactlyWhatAByteAtATimeScanDoes() {
        var (random, seed) = SeededRandom.forTest("EscapingScanTests", replayWith: "ESCAPING_SEED")
        // Plain text, with now and then a byte that needs escaping; values of every length
        // around the word size, so specials land on every position and in the tail.
        let specials: [UInt8] = [0x5C, 0x3D, 0x0A, 0x0D, 0x09, 0x00, 0x1F, 0x7F, 0x5E, 0x7C, 0x2C]
        let plain = Array("abcXYZ019 .-:/é€".utf8)
        for _ in 0..<4000 {
            let length = Int.random(in: 0...40, using: &random)
            var value: [UInt8] = []
            while value.count < length {
                if Int.random(in: 0..<10, using: &random) == 0 {
                    value.append(specials.randomElement(using: &random)!)
                } else {
                    value.append(plain.randomElement(using: &random)!)
                }
            }
            let text = String(decoding: value, as: UTF8.self)
            let bytes = Array(text.utf8)  // invalid UTF-8 was replaced: compare on what the String holds
            for delimiter in [UInt8(ascii: "^"), 0x09, UInt8(ascii: "|"), UInt8(ascii: ",")] {
                var out: [UInt8] = [0x41]
                LEEFEncoder.appendValue(text, delimiter: delimiter, to: &out)
                let expected = [0x41] + Self.escapedByteByByte(bytes, delimiter: delimiter)
                #expect(out == expected, "seed \(seed), delimiter \(delimiter), value \(bytes)")
                if out != expected { return }
            }
        }
    }
}
