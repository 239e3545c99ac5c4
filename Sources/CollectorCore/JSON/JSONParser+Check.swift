extension JSONParser.Cursor {
    /// Checks the value at the cursor as ``parseValue(depth:)`` would, without building it: the
    /// same text is refused, with the same message at the same place. Returns whether the text
    /// is already what ``JSONWriter`` writes for the value (no space between tokens, strings
    /// escaped only as it escapes them), so it can be kept as it is.
    mutating func checkValue(depth: Int) throws(JSONParseError) -> Bool {
        guard index < bytes.count else { throw error("unexpected end of input (truncated body?)") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try checkObject(depth: depth + 1)
        case UInt8(ascii: "["): return try checkArray(depth: depth + 1) { _, _ in }
        case UInt8(ascii: "\""): return try checkString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: throw error("unexpected character '\(printable(bytes[index]))'")
        }
        return true
    }

    /// Steps over white space; returns whether there was any.
    mutating func skipSpace() -> Bool {
        let start = index
        skipWhitespace()
        return index > start
    }

    private mutating func checkObject(depth: Int) throws(JSONParseError) -> Bool {
        if depth > JSONParser.maximumDepth { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
        index += 1
        var compact = !skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return compact
        }
        while true {
            if skipSpace() { compact = false }
            guard index < bytes.count else {
                throw error("unexpected end of input inside an object (truncated body?)")
            }
            guard bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
            let nameStart = index
            if try !checkString() { compact = false }
            if skipSpace() { compact = false }
            guard index < bytes.count else {
                throw error("unexpected end of input inside an object (truncated body?)")
            }
            guard bytes[index] == UInt8(ascii: ":") else {
                var name = Self(bytes: bytes)
                name.index = nameStart
                throw error("expected ':' after member name \"\((try? name.parseString()) ?? "")\"")
            }
            index += 1
            if skipSpace() { compact = false }
            if try !checkValue(depth: depth) { compact = false }
            if skipSpace() { compact = false }
            guard index < bytes.count else {
                throw error("unexpected end of input inside an object (truncated body?)")
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return compact
            } else {
                throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// An array, handing `each` the range of every element's text and whether that text is
    /// compact; returns whether the whole array is.
    mutating func checkArray(
        depth: Int, each: (Range<Int>, Bool) throws(JSONParseError) -> Void
    ) throws(JSONParseError) -> Bool {
        if depth > JSONParser.maximumDepth { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
        index += 1
        var compact = !skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return compact
        }
        while true {
            if skipSpace() { compact = false }
            let start = index
            let element = try checkValue(depth: depth)
            try each(start..<index, element)
            if skipSpace() || !element { compact = false }
            guard index < bytes.count else {
                throw error("unexpected end of input inside an array (truncated body?)")
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return compact
            } else {
                throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// A string; whether its escapes are those ``JSONWriter`` writes. One without escapes is
    /// checked in place; one with escapes is parsed, which checks it exactly as parsing does.
    private mutating func checkString() throws(JSONParseError) -> Bool {
        let start = index
        var scan = index + 1
        var ascii = true
        while scan < bytes.count {
            let b = bytes[scan]
            if b == UInt8(ascii: "\"") {
                if !ascii {
                    let text = UnsafeBufferPointer(rebasing: bytes[(start + 1)..<scan])
                    guard String(validating: text, as: UTF8.self) != nil else {
                        throw error("string is not valid UTF-8", at: start)
                    }
                }
                index = scan + 1
                return true
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("unescaped control character in a string", at: scan) }
            if b >= 0x80 { ascii = false }
            scan += 1
        }
        _ = try parseString()
        return Self.escapesAreWritersOwn(UnsafeBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)]))
    }

    /// Whether every escape in a string's well-formed text is the one ``JSONWriter`` writes:
    /// `\"`, `\\`, `\n`, `\r`, `\t`, and `\u00xx` (lower-case) for other control characters.
    private static func escapesAreWritersOwn(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < text.count {
            guard text[i] == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            switch text[i + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                i += 2
            case UInt8(ascii: "u"):
                let digits = Array(text[(i + 2)..<(i + 6)])
                let lowerHex = digits.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
                guard lowerHex, digits[0] == 0x30, digits[1] == 0x30, digits[2] <= 0x31 else { return false }
                let value = (digits[2] - 0x30) * 16 + (digits[3] <= 0x39 ? digits[3] - 0x30 : digits[3] - 0x61 + 10)
                guard value != 0x09, value != 0x0A, value != 0x0D else { return false }
                i += 6
            default: return false
            }
        }
        return true
    }
}

extension JSONParser {
    /// Checks `buffer` as ``parse(_:)`` would, without building the value: throws what it would
    /// throw; returns whether the text is already what ``JSONWriter`` writes for the value.
    package static func check(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> Bool {
        var cursor = Cursor(bytes: buffer)
        var compact = !cursor.skipSpace()
        if try !cursor.checkValue(depth: 0) { compact = false }
        if cursor.skipSpace() { compact = false }
        if cursor.index < buffer.count { throw cursor.error("unexpected text after the JSON value") }
        return compact
    }
}
