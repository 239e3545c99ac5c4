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
    /// Every key with its label and limit, worked out once.
    private let keys: (fields: [CEFKey?], raw: [CEFKey])
    /// `CEF:0|vendor|product|version|`: the same for every event.
    private let headerPrefix: [UInt8]

    public init(format: CEFFormat = CEFFormat()) {
        self.format = format
        keys = format.resolvedKeys()
        var prefix = Array("CEF:0|".utf8)
        for (value, limit) in [(format.vendor, 63), (format.product, 63), (format.productVersion, 31)] {
            Self.appendHeaderField(Self.cut(value, toBytes: limit), to: &prefix)
            prefix.append(UInt8(ascii: "|"))
        }
        headerPrefix = prefix
    }

    public var producesJSON: Bool { false }

    public func encode(_ event: Event, into out: inout [UInt8]) {
        _ = encode(event, maxBytes: nil, appendingTo: &out)
    }

    /// Appends the event; with `maxBytes`, drops the least important pairs until it fits.
    /// Returns how many pairs were dropped, or nil (and `out` unchanged) when the header and the
    /// essential pairs alone do not fit.
    public func encode(_ event: Event, maxBytes: Int? = nil, appendingTo out: inout [UInt8]) -> Int? {
        // The common case writes every pair straight after the header; only an event over
        // `maxBytes` is taken apart again, as pairs, for truncation.
        let base = out.count
        var writer = PairWriter()
        swap(&writer.out, &out)
        switch event {
        case .alert(let alert):
            appendHeader(for: event, to: &writer.out)
            format.visitPairs(of: alert, keys: keys, &writer)
        default:
            appendHeader(for: event, to: &writer.out)
            for pair in format.pairs(of: event) { writer.write(pair.key, pair.value, label: pair.label) }
        }
        swap(&writer.out, &out)
        guard let maxBytes, out.count - base > maxBytes else { return 0 }
        out.removeSubrange(base...)
        return encodeTruncating(event, maxBytes: maxBytes, appendingTo: &out)
    }

    /// ``encode(_:maxBytes:appendingTo:)`` for an event over `maxBytes`: drops the least important
    /// pairs until it fits.
    private func encodeTruncating(_ event: Event, maxBytes: Int, appendingTo out: inout [UInt8]) -> Int? {
        let base = out.count
        appendHeader(for: event, to: &out)
        let headerSize = out.count - base
        let pairs = format.pairs(of: event)
        let encoded = pairs.map { Self.encoded($0) }
        var keep = Array(repeating: true, count: pairs.count)
        var dropped = 0
        var marked = format.markTruncation
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
        out.append(contentsOf: headerPrefix)
        Self.appendHeaderField(Self.cut(signature, toBytes: 1023), to: &out)
        out.append(UInt8(ascii: "|"))
        Self.appendHeaderField(Self.cut(name, toBytes: 512), to: &out)
        out.append(UInt8(ascii: "|"))
        out.append(contentsOf: String(severity).utf8)
        out.append(UInt8(ascii: "|"))
    }

    static let headerEscaping = ByteEscaping(0x5C, 0x7C, 0x7C)
    static let valueEscaping = ByteEscaping(0x5C, 0x3D, 0x3D)

    static func appendHeaderField(_ value: String, to out: inout [UInt8]) {
        headerEscaping.append(value, to: &out) { byte, out in
            if byte == 0x5C || byte == 0x7C {
                out.append(0x5C)
                out.append(byte)
            } else {
                out.append(0x20)
            }
        }
    }

    /// `key=value`, preceded by `keyLabel=label` for a custom key.
    static func encoded(_ pair: CEFPair) -> [UInt8] {
        var writer = PairWriter()
        writer.write(pair.key, pair.value, label: pair.label)
        return writer.out
    }

    static func appendValue(_ value: String, to out: inout [UInt8]) {
        valueEscaping.append(value, to: &out, escape: escape)
    }

    /// What stands for a byte that needs escaping in a value: the guide's escapes, and a space for
    /// the control characters it has none for.
    @inline(__always)
    static func escape(_ byte: UInt8, to out: inout [UInt8]) {
        switch byte {
        case 0x5C, 0x3D:
            out.append(0x5C)
            out.append(byte)
        case 0x0A:
            out.append(0x5C)
            out.append(UInt8(ascii: "n"))
        case 0x0D:
            out.append(0x5C)
            out.append(UInt8(ascii: "r"))
        default: out.append(0x20)
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
