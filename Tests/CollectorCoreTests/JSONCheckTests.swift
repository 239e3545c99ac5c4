import CollectorCore
import CollectorTesting
import Testing

/// `JSONParser.check` reads a page's items without building them: it must refuse exactly what
/// the parser refuses, with the same error, and call a text compact exactly when our writer
/// would write that text for it.
@Suite struct JSONCheckTests {
    /// Random documents, spelled compactly and in the other ways a JSON writer may spell them.
    @Test func compactExactlyWhenTheWriterWritesTheSameText() throws {
        var (random, seed) = SeededRandom.forTest("JSONCheckTests.spelling", replayWith: "JSON_CHECK_SEED")
        for _ in 0..<400 {
            let document = RawJSONTests.value(depth: 0, using: &random)
            let compact = JSONWriter.string(document)
            let spellings = [
                compact, " " + compact, compact + "\n", RawJSONTests.spaced(document),
                Self.respelled(compact, using: &random),
            ]
            for text in spellings {
                let bytes = Array(text.utf8)
                let parsed = try JSONParser.parse(bytes: bytes)
                let isWritersOwn = JSONWriter.string(parsed) == text
                let checked = try bytes.withUnsafeBufferPointer { try JSONParser.check($0) }
                #expect(checked == isWritersOwn, "seed \(seed): \(text)")
                #expect(parsed == document, "seed \(seed): \(text)")
            }
        }
    }

    /// Broken texts: cut short, a byte changed, inserted or removed, invalid UTF-8. Both accept
    /// or both refuse, with the same message at the same byte.
    @Test func refusesWhatTheParserRefusesWithTheSameError() throws {
        var (random, seed) = SeededRandom.forTest("JSONCheckTests.broken", replayWith: "JSON_CHECK_SEED")
        var refused = 0
        for round in 0..<3000 {
            let document = RawJSONTests.value(depth: 0, using: &random)
            var bytes = Array(
                (round % 2 == 0 ? JSONWriter.string(document) : RawJSONTests.spaced(document)).utf8)
            Self.damage(&bytes, using: &random)
            let parsed = Result { () throws(JSONParseError) in try JSONParser.parse(bytes: bytes) }
            let checked = Result { () throws(JSONParseError) in
                try bytes.withUnsafeBufferPointer { b throws(JSONParseError) in try JSONParser.check(b) }
            }
            switch (parsed, checked) {
            case (.success, .success): break
            case (.failure(let p), .failure(let c)):
                refused += 1
                #expect(p == c, "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            default:
                Issue.record("seed \(seed): parse \(parsed), check \(checked) for \(bytes)")
            }
        }
        // The damage breaks most texts, so the errors were compared, not just the successes.
        #expect(refused > 1500, "seed \(seed)")
    }

    @Test func namesEachKindOfEscape() throws {
        let cases: [(String, Bool)] = [
            (#""a\"b\\c\nd\re\tf""#, true), (#""\u0001\u001f""#, true), (#""\u001F""#, false),
            (#""\u000a""#, false), (#""\/""#, false), (#""\b""#, false), (#""\u0041""#, false),
            (#""\ud83d\ude00""#, false), (#"{"k":[1,"é",null]}"#, true), (#"{"k" :1}"#, false),
            ("[]", true), ("[ ]", false), ("{}", true), ("-0.5e+3", true),
        ]
        for (text, compact) in cases {
            let bytes = Array(text.utf8)
            #expect(try bytes.withUnsafeBufferPointer { try JSONParser.check($0) } == compact, "\(text)")
        }
    }

    /// `text` with some characters escaped as other writers do: `\/`, and `\u` for `é` and space.
    static func respelled(_ text: String, using random: inout SeededRandom) -> String {
        let others: [Character: String] = ["/": "\\/", "é": "\\u00e9", " ": "\\u0020"]
        var out = ""
        var inString = false
        var escaped = false
        for c in text {
            if inString, !escaped, let other = others[c], Bool.random(using: &random) {
                out += other
                continue
            }
            if c == "\"", !escaped { inString.toggle() }
            escaped = !escaped && c == "\\"
            out.append(c)
        }
        return out
    }

    static func damage(_ bytes: inout [UInt8], using random: inout SeededRandom) {
        let noise: [UInt8] = [
            0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x20, 0x30, 0x2D, 0x65, 0x75, 0x01, 0xC3, 0xFF, 0x80,
        ]
        let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0...3, using: &random) {
        case 0: bytes.removeSubrange(at...)
        case 1 where !bytes.isEmpty: bytes[at] = noise.randomElement(using: &random)!
        case 2: bytes.insert(noise.randomElement(using: &random)!, at: at)
        default: if !bytes.isEmpty { bytes.remove(at: at) }
        }
    }
}
