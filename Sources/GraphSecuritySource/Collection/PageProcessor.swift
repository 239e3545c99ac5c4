package import CollectorCore

/// A provider a 206 answer named as failing.
package struct ProviderFailure: Sendable, Hashable {
    package var vendor: String
    package var provider: String
    package var status: Int

    package init(vendor: String, provider: String, status: Int) {
        self.vendor = vendor
        self.provider = provider
        self.status = status
    }
}

/// What one page of a window yields: the events to publish and what the page proves.
package struct PageOutcome: Sendable {
    /// Alerts not seen before, provider warnings, health events — in publication order.
    package var events: [Event] = []
    /// The duplicate keys of the alerts on this page that are new (published now).
    package var newKeys: [String] = []
    /// Newest and oldest last-update time on the page.
    package var newest: Timestamp?
    package var oldest: Timestamp?
    /// Alerts published, and alerts dropped as already delivered.
    package var alerts = 0
    package var duplicates = 0
    /// Distinct alert ids on the page (published or not), for the completeness audit.
    package var ids: Set<String> = []
    /// The alert versions published from this page (seen for the first time), for ``ShiftWatch``.
    package var versions: [(id: String, lastUpdate: Timestamp)] = []
    /// Time fields left out because they could not be read.
    package var unreadableFields = 0
    /// Providers the page's `Warning` header named.
    package var failures: [ProviderFailure] = []
    /// The answer was 206 Partial Content.
    package var isPartial = false
    /// The answer held no items.
    package var isEmpty = true

    package init() {}

    /// Adds what `part` (the next items of the same page) shows, but not its events.
    package mutating func absorb(_ part: PageOutcome) {
        newKeys += part.newKeys
        newest = [newest, part.newest].compactMap { $0 }.max()
        oldest = [oldest, part.oldest].compactMap { $0 }.min()
        alerts += part.alerts
        duplicates += part.duplicates
        ids.formUnion(part.ids)
        versions += part.versions
        unreadableFields += part.unreadableFields
        failures += part.failures
        isPartial = isPartial || part.isPartial
        isEmpty = isEmpty && part.isEmpty
    }
}

/// Turns one Graph answer into events: normalization, de-duplication against the keys already
/// delivered, `Warning` items into provider-warning events with their diagnosis, unreadable
/// items and fields into health events. Pure: no I/O, no clock, no logging — the
/// ``EndpointCollector`` does those with what it returns.
package struct PageProcessor: Sendable {
    package var endpoint: GraphEndpoint
    package var sourceName: String
    package var tenant: String

    package init(endpoint: GraphEndpoint, sourceName: String, tenant: String) {
        self.endpoint = endpoint
        self.sourceName = sourceName
        self.tenant = tenant
    }

    var component: String { "source:\(sourceName)" }

    /// Processes an answer to `query` (a redacted URL, for the warnings). `recentKeys` gains the
    /// keys of the alerts published. `items` may be part of the page, starting at its item
    /// `firstIndex` (so errors name the item's place on the page); its `detachIfSparse` decision is
    /// then the part's own.
    package func process(
        status: Int, items: [RawJSON], firstIndex: Int = 0, warnings: [String], query: String,
        observedAt: Timestamp, recentKeys: inout [String: Int64]
    ) -> PageOutcome {
        var outcome = PageOutcome()
        outcome.isPartial = status == 206
        outcome.isEmpty = items.isEmpty
        if status == 206 { appendWarnings(warnings, query: query, observedAt: observedAt, to: &outcome) }
        var unreadable: [String] = []
        for (index, text) in items.enumerated() {
            // The item's tree lives for this iteration only; the alert keeps the text.
            let item = text.value
            let alert: SecurityAlert
            do {
                alert = try GraphNormalizer.normalize(item, raw: text, endpoint: endpoint)
            } catch {
                var e = error
                e.index = firstIndex + index
                outcome.events.append(
                    .health(
                        CollectorHealth(
                            component: component, level: .error, code: "item_malformed",
                            message: "\(endpoint.rawValue): \(e)",
                            details: ["url": query], observedAt: observedAt)))
                continue
            }
            for (field, text) in GraphNormalizer.unreadableTimes(in: item, endpoint: endpoint) {
                unreadable.append("\(alert.id): \(field) '\(text)'")
            }
            outcome.ids.insert(alert.id)
            if let t = alert.lastUpdatedAt {
                if outcome.newest.map({ t > $0 }) ?? true { outcome.newest = t }
                if outcome.oldest.map({ t < $0 }) ?? true { outcome.oldest = t }
            }
            let key = alert.deduplicationKey
            if recentKeys[key] != nil {
                outcome.duplicates += 1
                continue
            }
            recentKeys[key] = alert.lastUpdatedAt?.nanosecondsSinceEpoch ?? 0
            outcome.newKeys.append(key)
            if let t = alert.lastUpdatedAt { outcome.versions.append((alert.id, t)) }
            outcome.alerts += 1
            outcome.events.append(.alert(alert))
        }
        detachIfSparse(&outcome.events, page: items)
        if !unreadable.isEmpty {
            outcome.unreadableFields = unreadable.count
            outcome.events.append(
                .health(
                    CollectorHealth(
                        component: component, level: .warning, code: "field_unreadable",
                        message:
                            "\(unreadable.count) time field(s) in items \(firstIndex)–\(firstIndex + items.count - 1) of this page "
                            + "are not times the collector can represent "
                            + "(RFC 3339 between 1678 and 2262); the alerts are delivered without them, the original "
                            + "text is in raw: "
                            + unreadable.prefix(5).joined(separator: "; "),
                        details: ["endpoint": endpoint.rawValue, "count": String(unreadable.count)],
                        observedAt: observedAt)))
        }
        return outcome
    }

    /// A page whose new alerts are a small part of it (the rest duplicates or unreadable): their
    /// texts are copied out of its body, so the body is not kept alive for them.
    private func detachIfSparse(_ events: inout [Event], page items: [RawJSON]) {
        let shared = items.reduce(0) { $0 + ($1.sharesABuffer ? $1.byteCount : 0) }
        let positions = events.indices.filter { events[$0].alert != nil }
        let texts = positions.compactMap { events[$0].alert?.raw }
        let detached = RawJSON.detachingIfSparse(texts, of: shared)
        for (position, (text, copy)) in zip(positions, zip(texts, detached))
        where text.sharesABuffer != copy.sharesABuffer {
            guard case .alert(var alert) = events[position] else { continue }
            alert.raw = copy
            events[position] = .alert(alert)
        }
    }

    private func appendWarnings(_ values: [String], query: String, observedAt: Timestamp, to outcome: inout PageOutcome)
    {
        let (items, malformed) = WarningHeader.parse(values)
        for item in items {
            let warning = ProviderDiagnosis.warning(
                for: item, query: query, endpoint: endpoint, tenantId: tenant, observedAt: observedAt)
            outcome.events.append(.providerWarning(warning))
            outcome.failures.append(ProviderFailure(vendor: item.vendor, provider: item.provider, status: item.status))
        }
        for bad in malformed {
            outcome.events.append(
                .health(
                    CollectorHealth(
                        component: component, level: .warning, code: "warning_header_malformed",
                        message: "a Warning header item could not be parsed: \(bad)", observedAt: observedAt)))
        }
    }
}
