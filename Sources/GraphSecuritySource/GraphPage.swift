public import CollectorCore

/// One page of a Graph collection answer: `{"value": [...], "@odata.nextLink": "..."}`.
///
/// Items are kept as their JSON text: a page waits while the one before it is published, and
/// a parsed tree takes several times the text's size.
public struct GraphPage: Sendable {
    /// What a page's alerts take in a sink's queue.
    package struct QueueSize: Sendable {
        package var events: Int
        package var bytes: Int
    }

    /// About what this page's alerts will take in a sink's queue (``Event/approximateByteCount``).
    package var queueSize: QueueSize {
        QueueSize(
            events: items.count,
            bytes: items.reduce(0) { $0 + Event.approximateByteCount(ofAlertWithRaw: $1.byteCount) })
    }

    public var items: [RawJSON]
    /// The URL of the next page, to be followed as it is.
    public var nextLink: String?
    /// `@odata.count`, when the request asked for it (`$count=true`).
    public var count: Int?

    /// The body is not a Graph collection page; the message says where and why.
    public struct FormatError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(items: [JSONValue], nextLink: String?) {
        self.items = items.map(RawJSON.init)
        self.nextLink = nextLink
    }

    public init(body: [UInt8]) throws(FormatError) {
        // The items keep slices of the body (``RawJSON``): a body that grew by doubling (sent
        // without Content-Length, or compressed) is first copied to its length, so they do not
        // keep its empty part too.
        let body =
            body.capacity > body.count + body.count / 8
            ? [UInt8](unsafeUninitializedCapacity: body.count) { $1 = $0.initialize(fromContentsOf: body) } : body
        let json: JSONValue
        let items: [RawJSON]?
        do {
            (json, items) = try JSONParser.parse(bytes: body, keepingElementsAsTextOf: "value")
        } catch {
            throw FormatError(description: "the response body is not valid JSON: \(error)")
        }
        try self.init(json: json)
        if let items { self.items = items }
    }

    public init(json: JSONValue) throws(FormatError) {
        guard case .object = json else { throw FormatError(description: "the response body is not a JSON object") }
        guard let value = json["value"] else {
            throw FormatError(description: "the response body has no 'value' array")
        }
        guard let items = value.arrayValue else { throw FormatError(description: "'value' is not an array") }
        self.items = items.map(RawJSON.init)
        self.nextLink = json["@odata.nextLink"]?.stringValue
        self.count = json["@odata.count"]?.intValue
    }
}
