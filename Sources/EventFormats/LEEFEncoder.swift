public import CollectorCore

/// Encodes events as LEEF payloads (no syslog header): `LEEF:2.0|Vendor|Product|Version|EventID|^|key=value^…`.
///
/// Escaping (IBM defines none; this follows the de-facto CEF-style convention and adds what
/// framing needs):
/// - header fields: `\` → `\\`, `|` → `\|`; control characters become a space;
/// - values: `\` → `\\`, `=` → `\=`, LF → `\n`, CR → `\r`, tab → `\t`, the active delimiter and
///   any other control character → `\xHH`; so a value never holds the delimiter, CR or LF raw;
/// - keys are checked by ``LEEFFormat/problems()``: `[A-Za-z0-9_.]`, each once.
///
/// With a byte limit, an event that does not fit loses its least important attributes first
/// (see ``LEEFField/importance``), then the longest remaining values are cut on a UTF-8
/// boundary. The header and the essential attributes (importance 0: time, severity, category,
/// id) are never cut: a cut one would be a wrong value. An event whose header and essentials
/// alone are over the limit cannot be encoded within it, and the encoder says so (nil).
public struct LEEFEncoder: Sendable {
    public let format: LEEFFormat
    /// The built-in fields' keys, worked out once (see ``LEEFFormat/resolvedKeys``).
    private let keys: [String?]
    /// `LEEF:2.0|vendor|product|version|`: the same for every event.
    private let headerPrefix: [UInt8]
    /// Values escape `\`, `=`, the delimiter and control characters.
    private let escaping: ByteEscaping

    public init(format: LEEFFormat) {
        self.format = format
        keys = format.resolvedKeys
        var prefix = Array("LEEF:\(format.version.rawValue)|".utf8)
        for field in [format.vendor, format.product, format.productVersion] {
            Self.appendHeaderField(field, to: &prefix, limit: 255)
            prefix.append(0x7C)
        }
        headerPrefix = prefix
        escaping = ByteEscaping(0x5C, 0x3D, format.delimiter)
    }

    /// The result of encoding one event.
    public struct Output: Sendable {
        public var bytes: [UInt8]
        /// Attributes dropped or cut to respect the limit; 0 when the event fit.
        public var truncatedAttributes: Int
        public var wasTruncated: Bool { truncatedAttributes > 0 }
    }

    /// The LEEF header of an event, including the final `|`.
    public func header(for event: Event) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        appendHeader(for: event, to: &out)
        return out
    }

    func appendHeader(for event: Event, to out: inout [UInt8]) {
        switch event {
        case .alert(let alert): appendHeader(eventID: format.alertEventID.render(alert), to: &out)
        case .providerWarning: appendHeader(eventID: format.providerWarningEventID, to: &out)
        case .health: appendHeader(eventID: format.healthEventID, to: &out)
        }
    }

    private func appendHeader(eventID: String, to out: inout [UInt8]) {
        out.append(contentsOf: headerPrefix)
        Self.appendHeaderField(eventID, to: &out, limit: 255)
        out.append(0x7C)
        if format.version == .v2 {
            out.append(contentsOf: LEEFFormat.delimiterText(format.delimiter).utf8)
            out.append(0x7C)
        }
    }

    /// Encodes an event; with `maxBytes`, the result is at most that long, or nil when the
    /// header and the essential attributes alone are longer (see ``minimumSize(of:)``).
    public func encode(_ event: Event, maxBytes: Int? = nil) -> Output? {
        var out: [UInt8] = []
        guard let truncated = encode(event, maxBytes: maxBytes, appendingTo: &out) else { return nil }
        return Output(bytes: out, truncatedAttributes: truncated)
    }

    /// The encoding of an event without a limit (it always succeeds).
    public func encode(_ event: Event) -> Output {
        var out: [UInt8] = []
        _ = encode(event, maxBytes: nil, appendingTo: &out)
        return Output(bytes: out, truncatedAttributes: 0)
    }

    /// The fewest bytes an event can be encoded in: its header and its essential attributes,
    /// whole (and the `truncated=` mark, when that is on).
    public func minimumSize(of event: Event) -> Int {
        let attributes = format.attributes(of: event).filter { $0.importance == 0 }
        var size = header(for: event).count + max(0, attributes.count - 1)
        for a in attributes { size += Self.encodedPair(a, delimiter: format.delimiter).count }
        if format.markTruncation { size += 1 + "truncated=".utf8.count + 3 }
        return size
    }

    /// Encodes an event at the end of `out` (after a syslog header, say), with `maxBytes` limiting
    /// what is appended. Returns how many attributes truncation dropped or cut, or nil (and `out`
    /// unchanged) when the event's header and essentials do not fit in `maxBytes`.
    public func encode(_ event: Event, maxBytes: Int? = nil, appendingTo out: inout [UInt8]) -> Int? {
        let base = out.count
        // The common case writes every pair straight after the header; only an event over
        // `maxBytes` is taken apart again, as attributes, for truncation.
        var writer = PairWriter(escaping: escaping, delimiter: format.delimiter)
        swap(&writer.out, &out)
        let headerEnd: Int
        switch event {
        case .alert(let alert):
            appendHeader(eventID: format.alertEventID.render(alert), to: &writer.out)
            headerEnd = writer.out.count
            format.visitAttributes(of: alert, keys: keys, &writer)
        default:
            appendHeader(for: event, to: &writer.out)
            headerEnd = writer.out.count
            for attribute in format.attributes(of: event) {
                writer.visit(attribute.key, .text(attribute.value), importance: attribute.importance)
            }
        }
        swap(&writer.out, &out)
        guard let maxBytes, out.count - base > maxBytes else { return 0 }
        let header = Array(out[base..<headerEnd])
        out.removeSubrange(base...)
        let attributes = format.attributes(of: event)
        let encoded = attributes.map { Self.encodedPair($0, delimiter: format.delimiter) }
        guard let cut = truncated(header: header, attributes: attributes, encoded: encoded, maxBytes: maxBytes)
        else { return nil }
        out.append(contentsOf: cut.bytes)
        return cut.truncatedAttributes
    }

    private func append(_ pairs: [[UInt8]], to out: inout [UInt8]) {
        for (i, pair) in pairs.enumerated() {
            if i > 0 { out.append(format.delimiter) }
            out.append(contentsOf: pair)
        }
    }

    private func truncated(header: [UInt8], attributes: [LEEFAttribute], encoded: [[UInt8]], maxBytes: Int) -> Output? {
        var keep = Array(repeating: true, count: encoded.count)
        var cut: [Int: [UInt8]] = [:]
        var affected = Set<Int>()
        func size() -> Int {
            var total = header.count
            var n = 0
            for i in encoded.indices where keep[i] {
                total += (cut[i] ?? encoded[i]).count
                n += 1
            }
            total += max(0, n - 1)
            if format.markTruncation && !affected.isEmpty {
                total += 1 + "truncated=".utf8.count + String(affected.count).utf8.count + 1
            }
            return total
        }
        // Least important first; among equals, the later attribute first. Importance 0 stays.
        let order = encoded.indices.filter { attributes[$0].importance > 0 }
            .sorted { (attributes[$0].importance, $0) > (attributes[$1].importance, $1) }
        for i in order where size() > maxBytes {
            keep[i] = false
            affected.insert(i)
        }
        // Still too long: shorten the longest non-essential values left, on a UTF-8 boundary and
        // never inside an escape; one that would keep nothing but its key is dropped.
        var stuck = Set<Int>()
        while size() > maxBytes {
            guard
                let longest = encoded.indices.filter({
                    keep[$0] && !stuck.contains($0) && attributes[$0].importance > 0
                })
                .max(by: { (cut[$0] ?? encoded[$0]).count < (cut[$1] ?? encoded[$1]).count })
            else { break }
            let current = cut[longest] ?? encoded[longest]
            let keyLength = attributes[longest].key.utf8.count + 1
            let target = max(current.count - (size() - maxBytes), keyLength)
            let shorter =
                target > keyLength
                ? Self.cutEscaped(current, to: target, keyLength: keyLength) : Array(current.prefix(keyLength))
            if shorter.count <= keyLength {
                keep[longest] = false
                affected.insert(longest)
            } else if shorter.count >= current.count {
                stuck.insert(longest)  // cannot get shorter: try the next value
            } else {
                cut[longest] = shorter
                affected.insert(longest)
            }
        }
        // Only the header and the essentials are left, and they do not fit.
        if size() > maxBytes { return nil }
        var out = header
        var pieces = encoded.indices.filter { keep[$0] }.map { cut[$0] ?? encoded[$0] }
        if format.markTruncation && !affected.isEmpty { pieces.append(Array("truncated=\(affected.count)".utf8)) }
        append(pieces, to: &out)
        return Output(bytes: out, truncatedAttributes: affected.count)
    }

    /// Cuts an encoded `key=value` to at most `length` bytes without splitting a UTF-8 sequence
    /// or an escape.
    static func cutEscaped(_ pair: [UInt8], to length: Int, keyLength: Int) -> [UInt8] {
        var end = min(length, pair.count)
        // Back up to a UTF-8 lead byte.
        while end > keyLength && end < pair.count && (pair[end] & 0xC0) == 0x80 { end -= 1 }
        // Do not end inside an escape: count the backslashes in the run that ends at the cut.
        var i = keyLength
        var lastSafe = keyLength
        while i < end {
            if pair[i] == 0x5C {
                let width = i + 1 < pair.count && pair[i + 1] == UInt8(ascii: "x") ? 4 : 2
                if i + width > end { break }
                i += width
            } else {
                i += 1
            }
            lastSafe = i
        }
        end = lastSafe
        while end > keyLength && end < pair.count && (pair[end] & 0xC0) == 0x80 { end -= 1 }
        return Array(pair[0..<end])
    }

    /// `key=escapedValue`.
    public static func encodedPair(_ attribute: LEEFAttribute, delimiter: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(attribute.key.utf8.count + attribute.value.utf8.count + 4)
        out.append(contentsOf: attribute.key.utf8)
        out.append(UInt8(ascii: "="))
        appendValue(attribute.value, delimiter: delimiter, to: &out)
        return out
    }

    static let hexDigits: StaticString = "0123456789ABCDEF"

    /// Appends a value with LEEF escaping: runs of plain bytes are copied whole.
    public static func appendValue(_ value: String, delimiter: UInt8, to out: inout [UInt8]) {
        ByteEscaping(0x5C, 0x3D, delimiter).append(value, to: &out, escape: escape)
    }

    /// What stands for a byte that needs escaping in a value.
    @inline(__always)
    static func escape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(0x5C)
        switch byte {
        case 0x5C, 0x3D: out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        default:
            out.append(UInt8(ascii: "x"))
            out.append(hexDigits.utf8Start[Int(byte >> 4)])
            out.append(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
    }

    /// Appends a header field: `\` and `|` escaped, control characters as spaces, at most
    /// `limit` characters of the original text.
    static func appendHeaderField(_ text: String, to out: inout [UInt8], limit: Int) {
        // Fast path: short enough in bytes (so in characters too) and nothing to escape.
        if text.utf8.count <= limit, !ByteEscaping(0x5C, 0x7C, 0x7C).holdsSpecial(text) {
            out.append(contentsOf: text.utf8)
            return
        }
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { break }
            count += 1
            switch scalar.value {
            case 0x5C:
                out.append(0x5C)
                out.append(0x5C)
            case 0x7C:
                out.append(0x5C)
                out.append(0x7C)
            case 0..<0x20, 0x7F: out.append(0x20)
            default: out.append(contentsOf: String(scalar).utf8)
            }
        }
    }
}

/// Reads LEEF back: the inverse of ``LEEFEncoder`` for tests and tools.
public struct LEEFParsedEvent: Sendable, Hashable {
    public var version: String
    public var vendor: String
    public var product: String
    public var productVersion: String
    public var eventID: String
    public var delimiter: UInt8
    /// Attributes in order, unescaped.
    public var attributes: [(key: String, value: String)]

    public static func == (lhs: LEEFParsedEvent, rhs: LEEFParsedEvent) -> Bool {
        lhs.version == rhs.version && lhs.vendor == rhs.vendor && lhs.product == rhs.product
            && lhs.productVersion == rhs.productVersion && lhs.eventID == rhs.eventID && lhs.delimiter == rhs.delimiter
            && lhs.attributes.map(\.key) == rhs.attributes.map(\.key)
            && lhs.attributes.map(\.value) == rhs.attributes.map(\.value)
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(eventID) }

    public subscript(key: String) -> String? { attributes.first { $0.key == key }?.value }

    /// Parses a payload that starts with `LEEF:`.
    public init(parsing text: String) throws(FormatError) {
        let bytes = Array(text.utf8)
        guard bytes.starts(with: Array("LEEF:".utf8)) else {
            throw FormatError("not a LEEF payload: \(text.prefix(40))")
        }
        var fields: [String] = []
        var current: [UInt8] = []
        var i = 5
        let headerCount = bytes.starts(with: Array("LEEF:2.0|".utf8)) ? 6 : 5
        while fields.count < headerCount {
            guard i < bytes.count else { throw FormatError("LEEF header ends after \(fields.count) fields") }
            let b = bytes[i]
            if b == 0x5C, i + 1 < bytes.count, bytes[i + 1] == 0x5C || bytes[i + 1] == 0x7C {
                current.append(bytes[i + 1])
                i += 2
                continue
            }
            if b == 0x7C {
                fields.append(String(decoding: current, as: UTF8.self))
                current = []
            } else {
                current.append(b)
            }
            i += 1
        }
        version = fields[0]
        vendor = fields[1]
        product = fields[2]
        productVersion = fields[3]
        eventID = fields[4]
        if headerCount == 6 {
            guard let d = LEEFFormat.parseDelimiter(fields[5]) else {
                throw FormatError("bad LEEF 2.0 delimiter '\(fields[5])'")
            }
            delimiter = d
        } else {
            delimiter = 0x09
        }
        attributes = []
        let body = bytes[i...]
        for piece in body.split(separator: delimiter, omittingEmptySubsequences: true) {
            attributes.append(try Self.attribute(piece))
        }
    }

    /// One `key=value` attribute, unescaped.
    static func attribute(_ piece: ArraySlice<UInt8>) throws(FormatError) -> (key: String, value: String) {
        var key: [UInt8] = []
        var value: [UInt8] = []
        var inValue = false
        var j = piece.startIndex
        while j < piece.endIndex {
            let b = piece[j]
            if !inValue {
                if b == 0x3D { inValue = true } else { key.append(b) }
                j += 1
                continue
            }
            if b == 0x5C, j + 1 < piece.endIndex {
                let next = piece[j + 1]
                switch next {
                case UInt8(ascii: "n"):
                    value.append(0x0A)
                    j += 2
                case UInt8(ascii: "r"):
                    value.append(0x0D)
                    j += 2
                case UInt8(ascii: "t"):
                    value.append(0x09)
                    j += 2
                case UInt8(ascii: "x") where j + 3 < piece.endIndex:
                    let hex = String(decoding: piece[(j + 2)...(j + 3)], as: UTF8.self)
                    guard let v = UInt8(hex, radix: 16) else { throw FormatError("bad escape \\x\(hex)") }
                    value.append(v)
                    j += 4
                default:
                    value.append(next)
                    j += 2
                }
                continue
            }
            value.append(b)
            j += 1
        }
        guard inValue else {
            throw FormatError("attribute without '=': \(String(decoding: piece, as: UTF8.self).prefix(40))")
        }
        return (String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}
