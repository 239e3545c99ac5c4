import Foundation

/// One JSON value kept as its compact text rather than as a tree: an alert's original document
/// (``SecurityAlert/raw``). A parsed ``JSONValue`` of a 1.4 KB alert takes several times that in
/// small heap objects; its text takes its length. Sinks write the text as it is, and parse it
/// only to reach a member (``member(_:)``, ``value``).
///
/// The text is what ``JSONWriter`` writes for the value: compact, member order and number text
/// as the document had them. Two `RawJSON` are equal when their texts are.
public struct RawJSON: Sendable, Hashable {
    /// The compact JSON text, UTF-8. Read from a Graph page, it is usually the alert's slice of
    /// the page's body: the alerts of a page share one buffer, as long as any of them lives.
    public let bytes: ArraySlice<UInt8>

    /// The text of `value`.
    public init(_ value: JSONValue) {
        var writer = JSONWriter(reservingCapacity: value.approximateByteCount)
        writer.write(value)
        bytes = Self.exactCopy(of: writer.bytes)
    }

    /// The text of `value`, which was parsed from `source`: `source` itself when it is that text
    /// already (no copy), else the text written in `scratch` (reused from call to call).
    public init(_ value: JSONValue, parsedFrom source: ArraySlice<UInt8>, scratch: inout JSONWriter) {
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.write(value)
        let same = scratch.bytes.withUnsafeBytes { written in
            source.withUnsafeBytes { original in
                written.count == original.count
                    && (written.count == 0 || memcmp(written.baseAddress!, original.baseAddress!, written.count) == 0)
            }
        }
        bytes = same ? source : Self.exactCopy(of: scratch.bytes)
    }

    /// Whether this is a slice of a larger text it shares (a page's body: an item never starts
    /// at its first byte), rather than a copy of its own.
    public var sharesABuffer: Bool { bytes.startIndex > 0 }

    /// A copy of its own when it shares a larger text; itself otherwise.
    public func detached() -> RawJSON {
        sharesABuffer ? RawJSON(bytes: Self.exactCopy(of: bytes)) : self
    }

    /// Copies out the shared texts among `texts` when they come to less than half of the
    /// `sharedBytes` of the text they were cut from: a few alerts would otherwise keep a whole
    /// page body alive (a sink's queue counts only their own size). Unchanged otherwise.
    public static func detachingIfSparse(_ texts: [RawJSON], of sharedBytes: Int) -> [RawJSON] {
        let kept = texts.reduce(0) { $0 + ($1.sharesABuffer ? $1.byteCount : 0) }
        guard kept > 0, kept * 2 < sharedBytes else { return texts }
        return texts.map { $0.detached() }
    }

    /// `bytes` as they are: the caller knows they are JSON as ``JSONWriter`` writes it.
    init(bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    /// A copy exactly as long as the text: a queue holds thousands of these.
    private static func exactCopy(of text: some Collection<UInt8>) -> ArraySlice<UInt8> {
        ArraySlice(
            [UInt8](unsafeUninitializedCapacity: text.count) { buffer, count in
                count = buffer.initialize(fromContentsOf: text)
            })
    }

    /// JSON `null`.
    public static let null = RawJSON(.null)

    /// The value, parsed again. `null` if the text is not JSON (it always is when it came from
    /// ``init(_:)``).
    public var value: JSONValue { (try? bytes.withUnsafeBufferPointer { try JSONParser.parse($0) }) ?? .null }

    /// The member named `key` of an object (the first, if the name repeats), parsing only that
    /// member; nil if there is none or this is not an object.
    public func member(_ key: String) -> JSONValue? {
        bytes.withUnsafeBufferPointer { JSONParser.member(key, ofObjectIn: $0) }
    }

    /// Shorthand for ``member(_:)``.
    public subscript(key: String) -> JSONValue? { member(key) }

    public var isNull: Bool { bytes == RawJSON.null.bytes }

    /// The text's length in bytes.
    public var byteCount: Int { bytes.count }
}

extension RawJSON: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

extension RawJSON: ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(.object(elements)) }
    public init(nilLiteral: ()) { self.init(.null) }
}

extension JSONWriter {
    /// Writes a value already in JSON text, as it is.
    public mutating func write(_ raw: RawJSON) {
        bytes.append(contentsOf: raw.bytes)
    }

    /// Writes an object of `members` and then `last`, whose value is already JSON text.
    public mutating func writeObject(_ members: [(String, JSONValue)], last: (String, RawJSON)) {
        bytes.append(UInt8(ascii: "{"))
        for (key, element) in members {
            writeString(key)
            bytes.append(UInt8(ascii: ":"))
            write(element)
            bytes.append(UInt8(ascii: ","))
        }
        writeString(last.0)
        bytes.append(UInt8(ascii: ":"))
        write(last.1)
        bytes.append(UInt8(ascii: "}"))
    }
}
