public import CollectorCore

/// How a sink turns an event into bytes: one payload per event (a line of a file, a syslog
/// message, an element of a webhook body), in one of the formats SIEMs take.
public protocol EventEncoding: Sendable {
    /// Appends one event's payload, without a line terminator.
    func encode(_ event: Event, into out: inout [UInt8])
    /// True when every payload is a JSON document (a webhook body can then be a JSON array).
    var producesJSON: Bool { get }
}

/// The `format:` of a sink that writes events.
public enum EventFormatName: String, Sendable, Hashable, CaseIterable, Decodable {
    /// graph-collector's own JSON form (see the README's event table).
    case json
    /// IBM LEEF 1.0 or 2.0, for QRadar.
    case leef
    /// ArcSight CEF:0, for ArcSight, Microsoft Sentinel's CEF path and most SIEMs.
    case cef
    /// OCSF: alerts as Detection Findings, for Amazon Security Lake, Splunk and others.
    case ocsf
    /// Elastic Common Schema 8.x documents, for Elasticsearch.
    case ecs
}

/// A format whose payload is one JSON document per event: it builds the document, and writing it
/// is shared.
public protocol JSONDocumentEncoding: EventEncoding {
    /// The event's document.
    func document(for event: Event) -> JSONValue
}

extension JSONDocumentEncoding {
    public var producesJSON: Bool { true }

    public func encode(_ event: Event, into out: inout [UInt8]) {
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.write(document(for: event))
        out += writer.bytes
    }
}

/// graph-collector's own JSON form.
public struct JSONEventEncoder: JSONDocumentEncoding {
    public init() {}

    public func document(for event: Event) -> JSONValue { event.jsonValue }

    /// Writes the document without parsing an alert's raw text into a tree to write it again.
    public func encode(_ event: Event, into out: inout [UInt8]) {
        var writer = JSONWriter()
        swap(&writer.bytes, &out)
        event.writeJSON(into: &writer)
        swap(&writer.bytes, &out)
    }
}

extension LEEFEncoder: EventEncoding {
    public var producesJSON: Bool { false }

    public func encode(_ event: Event, into out: inout [UInt8]) {
        _ = encode(event, maxBytes: nil, appendingTo: &out)
    }
}
