public import CollectorCore

/// One `key=value` of a CEF extension before escaping (with its label, for custom keys).
public struct CEFPair: Sendable, Hashable {
    public var key: String
    public var value: String
    /// `csNLabel` and the like: written with the pair and dropped with it.
    public var label: String?
    /// 0 is never dropped; higher is dropped first when the event is too long.
    public var importance: Int

    public init(_ key: String, _ value: String, label: String? = nil, importance: Int = 3) {
        self.key = key
        self.value = value
        self.label = label
        self.importance = importance
    }
}

/// Events as CEF:0 (``CEFFormat``): `CEF:0|vendor|product|version|signature|name|severity|`
/// then space-separated pairs. The header escapes `\` and `|`; values escape `\`, `=`, and
/// newline and carriage return as `\n` and `\r`. The guide defines no escape for tabs and other
/// control characters, so they become spaces; leading and trailing spaces of values are
/// dropped (the guide advises against them, and a final pair's trailing spaces do not survive).
public struct CEFEncoder: EventEncoding {
    public let format: CEFFormat

    public init(format: CEFFormat = CEFFormat()) {
        self.format = format
    }

    public var producesJSON: Bool { false }

    public func encode(_ event: Event, into out: inout [UInt8]) {
        _ = encode(event, maxBytes: nil, appendingTo: &out)
    }

    /// Appends the event; with `maxBytes`, drops the least important pairs until it fits.
    /// Returns how many pairs were dropped, or nil (and `out` unchanged) when the header and the
    /// essential pairs alone do not fit.
    public func encode(_ event: Event, maxBytes: Int? = nil, appendingTo out: inout [UInt8]) -> Int? {
        let base = out.count
        appendHeader(for: event, to: &out)
        let headerSize = out.count - base
        let pairs = format.pairs(of: event)
        let encoded = pairs.map { Self.encoded($0) }
        var keep = Array(repeating: true, count: pairs.count)
        var dropped = 0
        var marked = format.markTruncation
        if let maxBytes {
            // Exactly what would be written: the kept pairs with a space between, and the mark;
            // kept up to date as pairs are dropped rather than summed again each time.
            var pairBytes = encoded.reduce(0) { $0 + $1.count }
            var kept = encoded.count
            func size() -> Int {
                var total = headerSize + pairBytes + max(0, kept - 1)
                if marked && dropped > 0 {
                    total += (kept == 0 ? 0 : 1) + Self.truncationMark(dropped).count
                }
                return total
            }
            if size() > maxBytes {
                let order = pairs.indices.filter { pairs[$0].importance > 0 }
                    .sorted { (pairs[$0].importance, $0) > (pairs[$1].importance, $1) }
                for i in order where size() > maxBytes {
                    keep[i] = false
                    dropped += 1
                    pairBytes -= encoded[i].count
                    kept -= 1
                }
            }
            // The mark is a courtesy: an event that fits without it goes without it.
            if size() > maxBytes { marked = false }
            guard size() <= maxBytes else {
                out.removeSubrange(base...)
                return nil
            }
        }
        var first = true
        for i in encoded.indices where keep[i] {
            if !first { out.append(0x20) }
            first = false
            out += encoded[i]
        }
        if dropped > 0 && marked {
            if !first { out.append(0x20) }
            out += Self.truncationMark(dropped)
        }
        return dropped
    }

    /// The bytes the header and the pairs that are never dropped take.
    public func minimumSize(of event: Event) -> Int {
        var header: [UInt8] = []
        appendHeader(for: event, to: &header)
        let essential = format.pairs(of: event).filter { $0.importance == 0 }.map { Self.encoded($0).count }
        return header.count + essential.reduce(0, +) + max(0, essential.count - 1)
    }

    /// `cn3Label=truncatedPairs cn3=<dropped>`.
    static func truncationMark(_ dropped: Int) -> [UInt8] {
        Array("cn3Label=truncatedPairs cn3=\(dropped)".utf8)
    }

    func appendHeader(for event: Event, to out: inout [UInt8]) {
        let (signature, name, severity) = format.header(of: event)
        out += Array("CEF:0|".utf8)
        for (value, limit) in [
            (format.vendor, 63), (format.product, 63), (format.productVersion, 31), (signature, 1023), (name, 512),
        ] {
            Self.appendHeaderField(Self.cut(value, toBytes: limit), to: &out)
            out.append(UInt8(ascii: "|"))
        }
        out += Array(String(severity).utf8)
        out.append(UInt8(ascii: "|"))
    }

    static func appendHeaderField(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "|"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20, 0x7F: out.append(0x20)
            default: out.append(byte)
            }
        }
    }

    /// `key=value`, preceded by `keyLabel=label` for a custom key.
    static func encoded(_ pair: CEFPair) -> [UInt8] {
        var out: [UInt8] = []
        if let label = pair.label {
            out += Array("\(pair.key)Label=".utf8)
            appendValue(cut(label, toBytes: 1023), to: &out)
            out.append(0x20)
        }
        out += Array(pair.key.utf8)
        out.append(UInt8(ascii: "="))
        appendValue(pair.value, to: &out)
        return out
    }

    static func appendValue(_ value: String, to out: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "="):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0..<0x20, 0x7F: out.append(0x20)
            default: out.append(byte)
            }
        }
    }

    /// `value` cut to at most `limit` UTF-8 bytes on a character boundary.
    static func cut(_ value: String, toBytes limit: Int) -> String {
        guard value.utf8.count > limit else { return value }
        var result = ""
        var size = 0
        for character in value {
            size += character.utf8.count
            if size > limit { break }
            result.append(character)
        }
        return result
    }
}
