package import CollectorCore

/// Where collection of one (tenant, endpoint) stands: persisted after every accepted window.
package struct EndpointCheckpoint: Sendable {
    /// Everything up to here (minus the overlap) has been delivered.
    package var watermark: Timestamp
    /// Keys (`id@lastUpdate`) delivered recently, to drop the duplicates that overlapping
    /// windows return. Bounded: pruned to the overlap and the oldest owed window.
    package var recentKeys: [String: Int64] = [:]
    /// Windows still owed: by failing providers, or by the whole endpoint when a 206 proved
    /// less than the window, or when an audit found alerts missing.
    package var pending: [OwedWindow] = []
    /// Providers given up on (persistent 401/403 past the limit), since when. Their failures no
    /// longer hold windows; they are still reported on every answer that names them.
    package var abandoned: [String: Timestamp] = [:]
    /// Ranges past the watermark, in time order, whose alerts the sinks accepted: the slices a
    /// graceful stop in a backfill found done. The restart collects around them; each goes once
    /// the watermark passes it.
    package var collected: [WindowSlice] = []

    package var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("watermark", .string(watermark.iso8601(fractionDigits: 9))),
            ("recent_keys", .object(recentKeys.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })),
            ("pending", .array(pending.map(\.json))),
            (
                "abandoned",
                .object(
                    abandoned.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.iso8601(fractionDigits: 9))) })
            ),
        ]
        if !collected.isEmpty {
            members.append(
                (
                    "collected",
                    .array(
                        collected.map {
                            [
                                "from": .string($0.from.iso8601(fractionDigits: 9)),
                                "to": .string($0.to.iso8601(fractionDigits: 9)),
                            ]
                        })
                ))
        }
        return .object(members)
    }

    package init(watermark: Timestamp) { self.watermark = watermark }

    package init?(json: JSONValue) {
        guard let w = json["watermark"]?.stringValue.flatMap(Timestamp.init(iso8601:)) else { return nil }
        watermark = w
        for (k, v) in json["recent_keys"]?.objectMembers ?? [] { recentKeys[k] = Int64(v.scalarText ?? "") ?? 0 }
        pending = (json["pending"]?.arrayValue ?? []).compactMap(OwedWindow.init(json:))
        for (k, v) in json["abandoned"]?.objectMembers ?? [] {
            if let t = v.stringValue.flatMap(Timestamp.init(iso8601:)) { abandoned[k] = t }
        }
        for range in json["collected"]?.arrayValue ?? [] {
            guard let from = range["from"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
                let to = range["to"]?.stringValue.flatMap(Timestamp.init(iso8601:)), to > watermark
            else { continue }
            collected.record(WindowSlice(from: from, to: to))
        }
    }
}

/// A time window still owed, re-collected on every poll until it is accepted.
package struct OwedWindow: Sendable, Hashable {
    package var scope: CollectionScope
    package var from: Timestamp
    package var to: Timestamp
    package var firstFailure: Timestamp
    package var lastStatus: Int
    package var attempts: Int
    /// Graph refused the provider-scoped query: the window is re-collected without the provider
    /// filter (everything in it, de-duplicated) until it is recovered.
    package var unfiltered = false
    /// Since when the provider's Warning items have said 401/403 without a break (nil: the last
    /// one said something else). Giving up is measured from here.
    package var persistentSince: Timestamp?

    package var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("provider", scope.providerName.map(JSONValue.string) ?? .null),
            ("from", .string(from.iso8601(fractionDigits: 9))),
            ("to", .string(to.iso8601(fractionDigits: 9))),
            ("first_failure", .string(firstFailure.iso8601(fractionDigits: 9))),
            ("last_status", .number(String(lastStatus))), ("attempts", .number(String(attempts))),
        ]
        if unfiltered { members.append(("unfiltered", .bool(true))) }
        if let t = persistentSince { members.append(("persistent_since", .string(t.iso8601(fractionDigits: 9)))) }
        return .object(members)
    }

    package init(
        scope: CollectionScope, from: Timestamp, to: Timestamp, firstFailure: Timestamp, lastStatus: Int, attempts: Int
    ) {
        self.scope = scope
        self.from = from
        self.to = to
        self.firstFailure = firstFailure
        self.lastStatus = lastStatus
        self.attempts = attempts
    }

    package init?(json: JSONValue) {
        guard let from = json["from"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
            let to = json["to"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
            let first = json["first_failure"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        else { return nil }
        self.init(
            scope: CollectionScope(stored: json["provider"]?.stringValue), from: from, to: to, firstFailure: first,
            lastStatus: json["last_status"]?.intValue ?? 0, attempts: json["attempts"]?.intValue ?? 0)
        unfiltered = json["unfiltered"] == .bool(true)
        persistentSince = json["persistent_since"]?.stringValue.flatMap(Timestamp.init(iso8601:))
        // Older checkpoints: a window last failing with 401/403 counts from its first failure.
        if json["persistent_since"] == nil, ProviderDiagnosis.isPersistent(status: lastStatus) {
            persistentSince = firstFailure
        }
    }

    /// The provider filter this window's query carries (none when unfiltered).
    var queryProvider: String? { unfiltered ? nil : scope.providerName }
}
