/// A second CEF parser, written strictly from the "Implementing ArcSight CEF" guide for the tests:
/// it refuses what the guide does not allow (raw control characters, undefined escapes, an
/// unescaped `=` in a value, repeated keys) instead of guessing.
struct StrictCEFParser {
    struct Message: Equatable {
        var header: [String]  // vendor, product, version, signature, name, severity
        var pairs: [String: String]
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ line: String) throws -> Message {
        guard line.hasPrefix("CEF:0|") else { throw Failure(description: "does not start with CEF:0|") }
        let scalars = Array(line.unicodeScalars.dropFirst(6))
        if let bad = scalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw Failure(description: "raw control character U+\(String(bad.value, radix: 16))")
        }
        var header: [String] = []
        var field = ""
        var i = 0
        while header.count < 6 {
            guard i < scalars.count else { throw Failure(description: "the header has \(header.count) of 7 fields") }
            let c = scalars[i]
            if c == "\\" {
                guard i + 1 < scalars.count, scalars[i + 1] == "|" || scalars[i + 1] == "\\" else {
                    throw Failure(description: "undefined escape in the header")
                }
                field.unicodeScalars.append(scalars[i + 1])
                i += 2
            } else if c == "|" {
                header.append(field)
                field = ""
                i += 1
            } else {
                field.unicodeScalars.append(c)
                i += 1
            }
        }
        return Message(header: header, pairs: try parseExtension(Array(scalars[i...])))
    }

    static func isKeyScalar(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
    }

    /// Pairs: every unescaped `=` ends a key, which runs back to a space (or the start).
    static func parseExtension(_ s: [Unicode.Scalar]) throws -> [String: String] {
        var equals: [Int] = []
        var i = 0
        while i < s.count {
            if s[i] == "\\" {
                i += 2
                continue
            }
            if s[i] == "=" { equals.append(i) }
            i += 1
        }
        var keys: [(start: Int, end: Int)] = []
        for e in equals {
            var start = e
            while start > 0 && isKeyScalar(s[start - 1]) { start -= 1 }
            guard start < e, start == 0 || s[start - 1] == " " else {
                throw Failure(description: "an unescaped '=' that does not end a key, at \(e)")
            }
            keys.append((start, e))
        }
        guard keys.first?.start ?? 0 == 0 else { throw Failure(description: "text before the first key") }
        var result: [String: String] = [:]
        for (n, key) in keys.enumerated() {
            let name = String(String.UnicodeScalarView(s[key.start..<key.end]))
            let end = n + 1 < keys.count ? keys[n + 1].start - 1 : s.count
            guard result[name] == nil else { throw Failure(description: "key '\(name)' twice") }
            result[name] = try unescape(Array(s[(key.end + 1)..<max(key.end + 1, end)]))
        }
        return result
    }

    static func unescape(_ s: [Unicode.Scalar]) throws -> String {
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            guard s[i] == "\\" else {
                out.append(s[i])
                i += 1
                continue
            }
            guard i + 1 < s.count else { throw Failure(description: "a value ends in a lone backslash") }
            switch s[i + 1] {
            case "\\", "=": out.append(s[i + 1])
            case "n": out.append("\n")
            case "r": out.append("\r")
            default: throw Failure(description: "undefined escape \\\(s[i + 1]) in a value")
            }
            i += 2
        }
        return String(out)
    }
}
