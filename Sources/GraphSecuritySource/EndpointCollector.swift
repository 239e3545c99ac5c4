import CollectorCore
import Foundation
import Logging

/// Where collection of one (tenant, endpoint) stands: persisted after every acknowledged window.
struct EndpointCheckpoint: Sendable {
    /// Everything up to here (minus the overlap) has been delivered.
    var watermark: Timestamp
    /// Keys (`id@lastUpdate`) delivered recently, to drop the duplicates that overlapping
    /// windows return. Bounded: pruned to the overlap.
    var recentKeys: [String: Int64] = [:]
    /// Windows a failing provider still owes.
    var pending: [ProviderWindow] = []
    /// Providers given up on (persistent 401/403 past the limit), since when. Their failures no
    /// longer hold windows; they are still reported on every answer that names them.
    var abandoned: [String: Timestamp] = [:]

    var json: JSONValue {
        [
            "watermark": .string(watermark.iso8601(fractionDigits: 9)),
            "recent_keys": .object(recentKeys.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) }),
            "pending": .array(pending.map(\.json)),
            "abandoned": .object(abandoned.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.iso8601(fractionDigits: 9))) }),
        ]
    }

    init(watermark: Timestamp) { self.watermark = watermark }

    init?(json: JSONValue) {
        guard let w = json["watermark"]?.stringValue.flatMap(Timestamp.init(iso8601:)) else { return nil }
        watermark = w
        for (k, v) in json["recent_keys"]?.objectMembers ?? [] { recentKeys[k] = Int64(v.scalarText ?? "") ?? 0 }
        pending = (json["pending"]?.arrayValue ?? []).compactMap(ProviderWindow.init(json:))
        for (k, v) in json["abandoned"]?.objectMembers ?? [] {
            if let t = v.stringValue.flatMap(Timestamp.init(iso8601:)) { abandoned[k] = t }
        }
    }
}

/// A time window one provider failed to answer for, re-queried until it succeeds.
struct ProviderWindow: Sendable, Hashable {
    /// nil: the whole endpoint (a 206 from an endpoint without a provider filter).
    var provider: String?
    var from: Timestamp
    var to: Timestamp
    var firstFailure: Timestamp
    var lastStatus: Int
    var attempts: Int

    var json: JSONValue {
        [
            "provider": provider.map(JSONValue.string) ?? .null, "from": .string(from.iso8601(fractionDigits: 9)),
            "to": .string(to.iso8601(fractionDigits: 9)), "first_failure": .string(firstFailure.iso8601(fractionDigits: 9)),
            "last_status": .number(String(lastStatus)), "attempts": .number(String(attempts)),
        ]
    }

    init(provider: String?, from: Timestamp, to: Timestamp, firstFailure: Timestamp, lastStatus: Int, attempts: Int) {
        self.provider = provider
        self.from = from
        self.to = to
        self.firstFailure = firstFailure
        self.lastStatus = lastStatus
        self.attempts = attempts
    }

    init?(json: JSONValue) {
        guard let from = json["from"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
              let to = json["to"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
              let first = json["first_failure"]?.stringValue.flatMap(Timestamp.init(iso8601:)) else { return nil }
        self.init(provider: json["provider"]?.stringValue, from: from, to: to, firstFailure: first,
                  lastStatus: json["last_status"]?.intValue ?? 0, attempts: json["attempts"]?.intValue ?? 0)
    }
}

/// Collects one endpoint of one tenant: windowed by last-update time with lag and overlap,
/// paged by nextLink (falling back to time-boundary paging), de-duplicated, checkpointed only
/// after the sinks acknowledged, with per-provider recovery of 206 gaps.
actor EndpointCollector {
    struct Settings: Sendable {
        var tenant: String
        var endpoint: GraphEndpoint
        var graphURL: String
        var apiVersion: String
        var pageSize: Int
        var filter: String?
        var lag: Double
        var overlap: Double
        var lookBack: Double
        var giveUpAfter: Double
        var maxRecentKeys: Int
        var sourceName: String
    }

    let settings: Settings
    let client: GraphClient
    let store: CheckpointFile
    let logger: Logger
    let status: SourceStatusBoard
    let stop: StopRequest
    nonisolated var stream: String { "\(settings.tenant)/\(settings.endpoint.rawValue)" }
    private var checkpoint: EndpointCheckpoint?
    private var pageSize: Int
    /// Counters for the run summary and tests.
    private(set) var delivered = 0
    private(set) var duplicatesDropped = 0
    private(set) var warningsSeen = 0

    init(settings: Settings, client: GraphClient, store: CheckpointFile, logger: Logger, status: SourceStatusBoard, stop: StopRequest = StopRequest()) {
        self.status = status
        self.stop = stop
        self.settings = settings
        self.client = client
        self.store = store
        self.logger = logger
        self.pageSize = settings.pageSize
    }

    var hasPendingWindows: Bool { !(checkpoint?.pending.isEmpty ?? true) }

    func loadCheckpoint() async throws -> EndpointCheckpoint {
        if let checkpoint { return checkpoint }
        if let saved = try await store.load() {
            guard let c = EndpointCheckpoint(json: saved) else {
                throw SourceStopped(reason: "checkpoint '\(store.path)' is not a checkpoint; move it away to start over")
            }
            checkpoint = c
            status.update(stream: stream) { $0.watermark = c.watermark; $0.pendingWindows = c.pending.count }
            logger.info("resuming from checkpoint", metadata: ["endpoint": "\(settings.endpoint.rawValue)", "watermark": "\(c.watermark)", "pending_windows": "\(c.pending.count)"])
            return c
        }
        let c = EndpointCheckpoint(watermark: Timestamp.now().adding(seconds: -settings.lookBack))
        checkpoint = c
        return c
    }

    /// One poll: the new window, then the windows failing providers still owe.
    func poll(publisher: any EventPublisher) async throws {
        var cp = try await loadCheckpoint()
        let now = Timestamp.now()
        status.update(stream: stream) { $0.lastPollAt = now }
        let end = now.adding(seconds: -settings.lag)
        if end > cp.watermark {
            let start = cp.watermark.adding(seconds: -settings.overlap)
            // Progress inside a window relies on pages coming oldest first across the whole answer;
            // legacy v1 alerts aggregate each provider's top results, so there it is only saved
            // when the window ends.
            let result = try await collect(from: start, to: end, provider: nil, checkpoint: &cp, publisher: publisher,
                                           saveProgress: settings.endpoint != .alerts)
            for failure in result.failures {
                let provider = settings.endpoint == .alerts ? failure.provider : nil
                if let provider, cp.abandoned[provider] != nil { continue }
                if let i = cp.pending.firstIndex(where: { $0.provider == provider && $0.to >= start }) {
                    // The provider is still failing: extend the window it owes.
                    cp.pending[i].to = max(cp.pending[i].to, end)
                    cp.pending[i].lastStatus = failure.status
                } else {
                    cp.pending.append(ProviderWindow(provider: provider, from: start, to: end, firstFailure: now, lastStatus: failure.status, attempts: 1))
                }
            }
            // A provider given up on that answers again is collected again from now on.
            if settings.endpoint == .alerts {
                let failing = Set(result.failures.map(\.provider))
                for (provider, since) in cp.abandoned where !failing.contains(provider) {
                    cp.abandoned[provider] = nil
                    logger.notice("a provider that was given up on answers again; collecting it again", metadata: [
                        "provider": "\(provider)", "given_up_since": "\(since)", "endpoint": "\(settings.endpoint.rawValue)"])
                }
            }
            cp.watermark = end
            prune(&cp)
            try await save(cp)
        }
        // Recovery: re-query what failing providers owe, oldest first.
        var remaining: [ProviderWindow] = []
        for var window in cp.pending {
            try Task.checkCancellation()
            let result = try await collect(from: window.from, to: window.to, provider: window.provider, checkpoint: &cp, publisher: publisher)
            let stillFailing = result.failures.first { window.provider == nil || $0.provider == window.provider }
            if let stillFailing {
                window.attempts += 1
                window.lastStatus = stillFailing.status
                let age = Double(now.nanosecondsSinceEpoch - window.firstFailure.nanosecondsSinceEpoch) / 1e9
                if ProviderDiagnosis.isPersistent(status: stillFailing.status) && age >= settings.giveUpAfter {
                    let who = window.provider ?? settings.endpoint.rawValue
                    let message = "giving up on \(who) for \(window.from.iso8601(fractionDigits: 0))...\(window.to.iso8601(fractionDigits: 0)) after \(window.attempts) attempts over \(Int(age)) s: it keeps answering \(stillFailing.status). Its alerts for that window are NOT collected, and its later failures no longer hold collection back (they are still reported). Fix the licence or permission, then collect the window again by moving the checkpoint back."
                    logger.critical("\(message)", metadata: ["endpoint": "\(settings.endpoint.rawValue)", "tenant": "\(settings.tenant)"])
                    if let provider = window.provider { cp.abandoned[provider] = now }
                    _ = try await publisher.publish([.health(CollectorHealth(
                        component: "source:\(settings.sourceName)", level: .critical, code: "provider_window_abandoned", message: message,
                        details: ["provider": who, "status": String(stillFailing.status), "tenant": settings.tenant,
                                  "from": window.from.iso8601(), "to": window.to.iso8601()]))]).delivered()
                    continue
                }
                remaining.append(window)
            } else {
                logger.notice("recovered a window a provider had failed", metadata: [
                    "provider": "\(window.provider ?? "*")", "endpoint": "\(settings.endpoint.rawValue)",
                    "from": "\(window.from)", "to": "\(window.to)", "attempts": "\(window.attempts + 1)"])
            }
        }
        cp.pending = remaining
        prune(&cp)
        try await save(cp)
        status.update(stream: stream) { s in
            s.lastPollResult = cp.pending.isEmpty ? .complete : .partial
            s.lastSuccessAt = now
            s.watermark = cp.watermark
            s.pendingWindows = cp.pending.count
            s.lastError = nil
        }
    }

    struct WindowResult {
        var failures: [(provider: String, status: Int)] = []
    }

    /// How often a long window (a backfill) checkpoints what the sinks have accepted so far, so a
    /// crash or restart mid-window repeats seconds of work, not the whole window.
    static let progressInterval: Duration = .seconds(1)

    /// A published page not yet known to be accepted by every sink.
    private struct InFlightPage {
        var receipt: DeliveryReceipt
        var keys: [String]
        /// The newest alert time on this and every earlier page of the window.
        var newest: Timestamp?
    }

    /// Collects [from, to] (optionally one provider only) and waits until the sinks accepted it.
    /// With `saveProgress` (the main window), pages are ordered by time, so once a prefix of them
    /// is accepted the checkpoint can move to the newest time in that prefix; that is saved every
    /// ``progressInterval`` while no provider has failed in this window (a 206 makes the window
    /// owed, and that is recorded only when the window ends).
    private func collect(from: Timestamp, to: Timestamp, provider: String?, checkpoint cp: inout EndpointCheckpoint,
                         publisher: any EventPublisher, saveProgress: Bool = false) async throws -> WindowResult {
        var result = WindowResult()
        var inFlight: [InFlightPage] = []
        let clock = ContinuousClock()
        var lastProgress = clock.now
        let startWatermark = cp.watermark
        var savedProgress: Timestamp?
        var progressAllowed = true
        var prefetch: (url: String, task: Task<GraphAnswer, any Error>)?
        defer { prefetch?.task.cancel() }
        var url = listURL(from: from, inclusive: true, to: to, provider: provider)
        var lastTime: Timestamp?
        var pagesWithoutProgress = 0
        while true {
            try Task.checkCancellation()
            if stop.isRequested {
                // Graceful shutdown: wait for what is published (the sinks are still working),
                // checkpoint it if this is the main window and nothing failed, and stop.
                if saveProgress, progressAllowed, result.failures.isEmpty {
                    for page in inFlight where await !page.receipt.delivered().isComplete { throw CancellationError() }
                    try await saveProgressCheckpoint(cp, reached: inFlight.last?.newest, unsettled: [], startWatermark: startWatermark)
                    logger.info("stopped for shutdown; checkpointed what the sinks accepted", metadata: [
                        "endpoint": "\(settings.endpoint.rawValue)", "up_to": "\(inFlight.last?.newest?.description ?? "-")"])
                }
                throw CancellationError()
            }
            let answer: GraphAnswer
            do {
                if let ahead = prefetch, ahead.url == url {
                    prefetch = nil
                    answer = try await withTaskCancellationHandler {
                        try await ahead.task.value
                    } onCancel: {
                        ahead.task.cancel()
                    }
                } else {
                    prefetch?.task.cancel()
                    prefetch = nil
                    answer = try await client.list(url)
                }
                // The next page is fetched while this one is normalized and published: a page's
                // latency then overlaps the work on the previous one (the rate limit still holds).
                if let next = answer.page.nextLink {
                    let client = client
                    prefetch = (next, Task { try await client.list(next) })
                }
            } catch let error as GraphError where error.kind == .badRequest {
                if let limit = Self.topLimit(in: error.message), limit < pageSize {
                    logger.warning("the API refused $top=\(pageSize); lowering it to \(limit)", metadata: ["endpoint": "\(settings.endpoint.rawValue)"])
                    pageSize = limit
                    url = listURL(from: lastTime ?? from, inclusive: true, to: to, provider: provider)
                    continue
                }
                if error.message.contains("SkipToken"), let lastTime {
                    // nextLink paging broke (Graph's 2024 SkipToken regression): continue by time.
                    logger.warning("nextLink paging was refused; continuing with time-boundary paging", metadata: ["endpoint": "\(settings.endpoint.rawValue)", "from": "\(lastTime)"])
                    url = listURL(from: lastTime, inclusive: true, to: to, provider: provider)
                    continue
                }
                throw error
            }
            var events: [Event] = []
            if answer.status == 206 {
                let (items, malformed) = WarningHeader.parse(answer.warnings)
                for item in items {
                    warningsSeen += 1
                    status.update(stream: stream) { $0.warningsByProvider["\(item.vendor)/\(item.provider)", default: 0] += 1 }
                    let warning = ProviderDiagnosis.warning(for: item, query: GraphClient.redact(url), endpoint: settings.endpoint,
                                                            tenantId: settings.tenant, observedAt: .now())
                    events.append(.providerWarning(warning))
                    result.failures.append((item.provider, item.status))
                    logger.warning("provider failed behind a 206 Partial Content answer; its window will be collected again", metadata: [
                        "provider": "\(item.vendor)/\(item.provider)", "status": "\(item.status)", "endpoint": "\(settings.endpoint.rawValue)",
                        "diagnosis": "\(warning.diagnosis)"])
                }
                for bad in malformed {
                    events.append(.health(CollectorHealth(component: "source:\(settings.sourceName)", level: .warning, code: "warning_header_malformed",
                                                          message: "a Warning header item could not be parsed: \(bad)")))
                }
                if items.isEmpty {
                    // A 206 that names no provider: treat the whole window as owed.
                    result.failures.append(("*", 206))
                }
            }
            var newest: Timestamp?
            var oldest: Timestamp?
            var pageKeys: [String] = []
            for (index, item) in answer.page.items.enumerated() {
                do {
                    let alert = try GraphNormalizer.normalize(item, endpoint: settings.endpoint)
                    if let t = alert.lastUpdatedAt, newest == nil || t > newest! { newest = t }
                    if let t = alert.lastUpdatedAt, oldest == nil || t < oldest! { oldest = t }
                    let key = alert.deduplicationKey
                    if cp.recentKeys[key] != nil {
                        duplicatesDropped += 1
                        continue
                    }
                    cp.recentKeys[key] = alert.lastUpdatedAt?.nanosecondsSinceEpoch ?? 0
                    pageKeys.append(key)
                    events.append(.alert(alert))
                } catch {
                    var e = error
                    e.index = index
                    events.append(.health(CollectorHealth(component: "source:\(settings.sourceName)", level: .error, code: "item_malformed",
                                                          message: "\(settings.endpoint.rawValue): \(e)", details: ["url": GraphClient.redact(url)])))
                }
            }
            let alerts = events.filter { $0.alert != nil }.count
            delivered += alerts
            if let newest {
                if let lastTime, newest <= lastTime, alerts == 0 { pagesWithoutProgress += 1 } else { pagesWithoutProgress = 0 }
                lastTime = max(lastTime ?? newest, newest)
            }
            if !events.isEmpty {
                inFlight.append(InFlightPage(receipt: try await publisher.publish(events), keys: pageKeys, newest: lastTime))
                status.update(stream: stream) { $0.eventsPublished += events.count }
            }
            if let oldest, let saved = savedProgress, oldest < saved {
                // Out of time order (not what Graph documents for these endpoints): saving progress
                // could skip alerts, so this window is checkpointed only when it ends.
                progressAllowed = false
            }
            if saveProgress, progressAllowed, result.failures.isEmpty, inFlight.count > 2, clock.now - lastProgress >= Self.progressInterval {
                // Settle all but the two newest pages (they keep the sinks busy meanwhile).
                let settled = inFlight.prefix(inFlight.count - 2)
                for page in settled {
                    let report = await page.receipt.delivered()
                    guard report.isComplete else {
                        throw SourceStopped(reason: "sinks \(report.undeliveredBy.sorted().joined(separator: ", ")) did not accept the window; not checkpointing past it")
                    }
                }
                let reached = settled.last?.newest
                inFlight.removeFirst(settled.count)
                try await saveProgressCheckpoint(cp, reached: reached, unsettled: inFlight, startWatermark: startWatermark)
                if let reached, reached > startWatermark { savedProgress = reached }
                // Keys older than the overlap before what is accepted can never be seen again in
                // this window: drop them, so a long backfill's memory does not grow with it.
                if let reached, reached > startWatermark { prune(&cp, watermark: reached) }
                lastProgress = clock.now
            }
            guard let next = answer.page.nextLink else { break }
            if pagesWithoutProgress > 3 {
                throw SourceStopped(reason: "\(settings.endpoint.rawValue): paging makes no progress at \(lastTime?.description ?? "?") (more than $top items share one time); raise page_size")
            }
            url = next
        }
        for page in inFlight {
            let report = await page.receipt.delivered()
            guard report.isComplete else {
                throw SourceStopped(reason: "sinks \(report.undeliveredBy.sorted().joined(separator: ", ")) did not accept the window; not checkpointing past it")
            }
        }
        return result
    }

    /// Saves `cp` with its watermark moved to `reached` (alerts up to there are accepted), and
    /// without the duplicate keys of the pages not yet accepted, so a restart collects those again.
    private func saveProgressCheckpoint(_ cp: EndpointCheckpoint, reached: Timestamp?, unsettled: [InFlightPage],
                                        startWatermark: Timestamp) async throws {
        guard let reached, reached > startWatermark else { return }
        var progress = cp
        for page in unsettled { for key in page.keys { progress.recentKeys[key] = nil } }
        progress.watermark = reached
        prune(&progress)
        try await store.save(progress.json)
        // A poll that fails later in this window starts again from here, not from the window.
        checkpoint = progress
        status.update(stream: stream) { $0.watermark = reached }
    }

    private func prune(_ cp: inout EndpointCheckpoint, watermark: Timestamp? = nil) {
        let cutoff = (watermark ?? cp.watermark).adding(seconds: -settings.overlap - 1).nanosecondsSinceEpoch
        let oldestPending = cp.pending.map(\.from.nanosecondsSinceEpoch).min() ?? Int64.max
        let keep = min(cutoff, oldestPending)
        cp.recentKeys = cp.recentKeys.filter { $0.value >= keep }
        if cp.recentKeys.count > settings.maxRecentKeys {
            let sorted = cp.recentKeys.sorted { $0.value > $1.value }.prefix(settings.maxRecentKeys)
            cp.recentKeys = Dictionary(uniqueKeysWithValues: sorted.map { ($0.key, $0.value) })
        }
    }

    private func save(_ cp: EndpointCheckpoint) async throws {
        checkpoint = cp
        try await store.save(cp.json)
    }

    /// The URL for a window, oldest first.
    func listURL(from: Timestamp, inclusive: Bool, to: Timestamp, provider: String?) -> String {
        let property = settings.endpoint.lastUpdatedProperty
        var filter = "\(property) \(inclusive ? "ge" : "gt") \(from.iso8601(fractionDigits: 7)) and \(property) le \(to.iso8601(fractionDigits: 7))"
        if let provider, provider != "*" {
            filter += " and vendorInformation/provider eq '\(provider.replacingOccurrences(of: "'", with: "''"))'"
        }
        if let user = settings.filter, !user.isEmpty { filter += " and (\(user))" }
        let query = [("$filter", filter), ("$orderby", "\(property) asc"), ("$top", String(pageSize))]
            .map { "\($0.0)=\(PercentEncoding.encode($0.1, keeping: ":/"))" }.joined(separator: "&")
        return "\(settings.graphURL)/\(settings.apiVersion)/security/\(settings.endpoint.rawValue)?\(query)"
    }

    /// "The limit of '50' for Top query has been exceeded" → 50.
    static func topLimit(in message: String) -> Int? {
        guard message.contains("for Top query"), let open = message.range(of: "limit of '") else { return nil }
        return Int(message[open.upperBound...].prefix { $0.isNumber })
    }
}
