extension JSONParser {
    /// The member named `key` of the JSON object in `buffer`, parsing that member only and
    /// stepping over the others; nil if there is none, or the text is not an object.
    static func member(_ key: String, ofObjectIn buffer: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var cursor = Cursor(bytes: buffer)
        cursor.skipWhitespace()
        guard cursor.index < buffer.count, buffer[cursor.index] == UInt8(ascii: "{") else { return nil }
        cursor.index += 1
        do {
            while true {
                cursor.skipWhitespace()
                guard cursor.index < buffer.count, buffer[cursor.index] == UInt8(ascii: "\"") else { return nil }
                let name = try cursor.parseString()
                cursor.skipWhitespace()
                guard cursor.index < buffer.count, buffer[cursor.index] == UInt8(ascii: ":") else { return nil }
                cursor.index += 1
                cursor.skipWhitespace()
                if name == key { return try cursor.parseValue(depth: 1) }
                try cursor.skipValue(depth: 1)
                cursor.skipWhitespace()
                guard cursor.index < buffer.count, buffer[cursor.index] == UInt8(ascii: ",") else { return nil }
                cursor.index += 1
            }
        } catch {
            return nil
        }
    }
}

extension JSONParser.Cursor {
    /// Moves past one value without building it. Strings are stepped over by their quotes and
    /// escapes only; what ``JSONParser/parse(_:)`` would check in them is not checked again.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        if depth > JSONParser.maximumDepth { throw error("nesting deeper than \(JSONParser.maximumDepth)") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if close == UInt8(ascii: "}"), index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                    index += 1
                    skipWhitespace()
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                }
                guard index < bytes.count else { throw error("unexpected end of input") }
                if bytes[index] == close {
                    index += 1
                    return
                }
                guard bytes[index] == UInt8(ascii: ",") else { throw error("expected ',' between members") }
                index += 1
            }
        default:
            // A number or a literal: up to the next delimiter.
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: break
                default:
                    index += 1
                    continue
                }
                break
            }
            if index == start { throw error("unexpected character '\(printable(bytes[index]))'") }
        }
    }

    private mutating func skipString() throws(JSONParseError) {
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        throw error("unterminated string")
    }
}

extension JSONParser {
    /// Parses a JSON object whose member `key`, when it is an array, is kept as the text of each
    /// element (``RawJSON``) rather than as a tree: the elements are checked without building
    /// them (an element not written compactly is parsed, and its tree lives only while it is
    /// rewritten). In the object returned that member is an empty array; the texts come apart.
    /// A Graph page (`{"value": [...]}`) is read this way. An element already written compactly
    /// is kept as its slice of `bytes`, which the texts then share, rather than copied.
    public static func parse(
        bytes: [UInt8], keepingElementsAsTextOf key: String
    ) throws(JSONParseError) -> (object: JSONValue, elements: [RawJSON]?) {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
            var cursor = Cursor(bytes: buffer)
            cursor.skipWhitespace()
            guard cursor.index < buffer.count, buffer[cursor.index] == UInt8(ascii: "{") else {
                return (try parse(buffer), nil)
            }
            var elements: [RawJSON]?
            let object = try cursor.parseObject(depth: 1) { name, cursor throws(JSONParseError) in
                guard name == key, elements == nil, cursor.index < buffer.count,
                    buffer[cursor.index] == UInt8(ascii: "[")
                else { return nil }
                var texts: [RawJSON] = []
                var scratch = JSONWriter()
                // Each element is checked without building it; only one not already written as
                // our writer writes it is parsed, and rewritten.
                _ = try cursor.checkArray(depth: 2) { range, compact throws(JSONParseError) in
                    if compact {
                        texts.append(RawJSON(bytes: bytes[range]))
                    } else {
                        let element = try JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[range]))
                        texts.append(RawJSON(element, parsedFrom: bytes[range], scratch: &scratch))
                    }
                }
                // Mostly spelled otherwise than our writer would: a few slices would keep the
                // body alive beside the copies, so they are copied too.
                texts = RawJSON.detachingIfSparse(texts, of: texts.reduce(0) { $0 + $1.byteCount })
                elements = texts
                return .array([])
            }
            cursor.skipWhitespace()
            if cursor.index < buffer.count { throw cursor.error("unexpected text after the JSON value") }
            return (object, elements)
        }
    }
}
