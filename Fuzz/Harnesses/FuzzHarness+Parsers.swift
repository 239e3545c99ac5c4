import CollectorCore
import CurlTransport
import EventFormats
import GraphSecuritySource

/// Targets for what arrives over HTTP: headers, times and Graph pages.
extension FuzzHarness {
    /// `Warning` header values (one per line of the input), as a 206 answer carries them.
    static let warningHeader = FuzzHarness("warning-header", "WarningHeader.parse over header lines") { data in
        let values = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(
            String.init)
        let (items, _) = WarningHeader.parse(values)
        for item in items { require(!item.raw.isEmpty, "an item without its text") }
    }

    /// `Retry-After` values: never a negative delay, never past the cap.
    static let retryAfter = FuzzHarness("retry-after", "RetryAfter.parse (RFC 9110 delay-seconds and HTTP-date)") {
        data in
        let now: Int64 = 1_764_000_000
        if let delay = RetryAfter.parse(String(decoding: data, as: UTF8.self), now: now) {
            require(delay >= .zero && delay <= RetryAfter.maximum, "delay \(delay) out of bounds")
        }
    }

    /// RFC 3339 times: what parses prints and parses back to the same instant.
    static let timestamp = FuzzHarness("timestamp", "Timestamp(iso8601:) and its printing round trip") { data in
        guard let t = Timestamp(iso8601: String(decoding: data, as: UTF8.self)) else { return }
        let printed = t.iso8601(fractionDigits: 9)
        require(Timestamp(iso8601: printed) == t, "\(printed) does not read back")
        _ = t.utcComponents
        _ = t.adding(seconds: Double(data.count) * 1e12)
    }

    /// JSON: what parses is written and parses back equal.
    static let json = FuzzHarness("json", "JSONParser, JSONWriter round trip") { data in
        guard let value = try? JSONParser.parse(bytes: data) else { return }
        var writer = JSONWriter()
        writer.write(value)
        let again = try? JSONParser.parse(bytes: writer.bytes)
        require(again == value, "written JSON does not read back equal")
    }

    /// A Graph collection page: every item normalized as each endpoint's kind, its unreadable
    /// times listed, and the alert written as our JSON and LEEF and read back.
    static let graphPage = FuzzHarness(
        "graph-page", "GraphPage + GraphNormalizer for v1, v2 and incidents, then JSON and LEEF"
    ) { data in
        guard let page = try? GraphPage(body: data) else { return }
        let leef = LEEFEncoder(format: LEEFFormat())
        for item in page.items.prefix(50) {
            let tree = item.value
            for (key, _) in tree.objectMembers ?? [] {
                require(item.member(key) == tree[key], "member \(key) read from the text differs from the tree's")
            }
            for endpoint in GraphEndpoint.allCases {
                _ = GraphNormalizer.unreadableTimes(in: item.value, endpoint: endpoint)
                guard let alert = try? GraphNormalizer.normalize(item, endpoint: endpoint) else { continue }
                let event = Event.alert(alert)
                let back = try? Event(json: event.jsonValue)
                require(back?.alert?.id == alert.id, "alert \(alert.id) does not read back from its JSON")
                let encoded = leef.encode(event)
                require(
                    (try? LEEFParsedEvent(parsing: String(decoding: encoded.bytes, as: UTF8.self))) != nil,
                    "LEEF does not parse")
            }
        }
    }
}
