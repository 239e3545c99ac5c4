package import CollectorCore
import Foundation
package import Logging

/// Collects one endpoint of one tenant. Each poll has two parts:
///
/// 1. **The new window**, `[watermark − overlap, now − lag]`, paged by ``PageFetcher``, turned into
///    events by ``PageProcessor``, published, and checkpointed once the sinks accepted it
///    (progress is saved every second during a long window, see ``ProgressTracker``). What it
///    proved too little about — failing providers, or a 206 that showed less than the window
///    (see ``WindowResult``) — becomes owed windows in the ``RecoveryScheduler``'s ledger.
/// 2. **The owed windows**, each collected again on its own: one that fails stays owed without
///    stopping the others, one that is accepted is recorded at once (never collected twice), and a
///    provider filter Graph refuses falls back to the whole window, de-duplicated.
///
/// With `audit`, a closed window's `$count` is compared with the distinct alerts seen for it;
/// a shortfall makes the whole window owed and is reported.
package actor EndpointCollector {
    package struct Settings: Sendable {
        package var tenant: String
        package var endpoint: GraphEndpoint
        package var graphURL: String
        package var apiVersion: String
        package var pageSize: Int
        package var filter: String?
        package var lag: Duration
        package var overlap: Duration
        package var lookBack: Duration
        package var giveUpAfter: Duration
        package var maxRecentKeys: Int
        package var sourceName: String
        package var expandAlerts = false
        package var audit = false
        /// A new window longer than this (a backfill) is split into time slices; nil: never.
        package var sliceAfter: Duration? = .seconds(3600)
        /// Slices collected at once, under the tenant's one rate limiter.
        package var parallelSlices = 4
        /// Pages held between fetch and publication, shared by every stream of the source.
        package var pages = PageBudget(pages: 128)

        package init(
            tenant: String, endpoint: GraphEndpoint, graphURL: String, apiVersion: String = "v1.0", pageSize: Int,
            filter: String? = nil, lag: Duration, overlap: Duration, lookBack: Duration, giveUpAfter: Duration,
            maxRecentKeys: Int = 500_000, sourceName: String
        ) {
            self.tenant = tenant
            self.endpoint = endpoint
            self.graphURL = graphURL
            self.apiVersion = apiVersion
            self.pageSize = pageSize
            self.filter = filter
            self.lag = lag
            self.overlap = overlap
            self.lookBack = lookBack
            self.giveUpAfter = giveUpAfter
            self.maxRecentKeys = maxRecentKeys
            self.sourceName = sourceName
        }

        func query(to: Timestamp, provider: String?) -> WindowQuery {
            WindowQuery(
                graphURL: graphURL, apiVersion: apiVersion, endpoint: endpoint, to: to, provider: provider,
                userFilter: filter, expandAlerts: expandAlerts)
        }
    }

    package let settings: Settings
    let client: any GraphListing
    let store: any CheckpointStorage
    let logger: Logger
    package let status: SourceStatusBoard
    let stop: StopRequest
    let processor: PageProcessor
    let scheduler: RecoveryScheduler
    package nonisolated var stream: String { "\(settings.tenant)/\(settings.endpoint.rawValue)" }
    var checkpoint: EndpointCheckpoint?
    var pageSize: Int
    /// Windows paged by nextLink that an update during their paging may have shifted.
    var shiftWatch: ShiftWatch
    /// Windows ``shiftWatch`` found suspect while collecting, not yet in the ledger.
    var suspectWindows: [OwedWindow] = []
    var polling = false
    /// Whether a page is being normalized and published, and the slices waiting to do so.
    var pageTurnTaken = false
    var pageTurnWaiting: [CheckedContinuation<Void, Never>] = []
    /// Counters for the run summary and tests.
    package internal(set) var delivered = 0
    package internal(set) var duplicatesDropped = 0
    package internal(set) var warningsSeen = 0

    package init(
        settings: Settings, client: any GraphListing, store: any CheckpointStorage, logger: Logger,
        status: SourceStatusBoard,
        stop: StopRequest = StopRequest()
    ) {
        self.status = status
        self.stop = stop
        self.settings = settings
        self.client = client
        self.store = store
        self.logger = logger
        self.pageSize = settings.pageSize
        processor = PageProcessor(endpoint: settings.endpoint, sourceName: settings.sourceName, tenant: settings.tenant)
        scheduler = RecoveryScheduler(federated: settings.endpoint == .alerts, giveUpAfter: settings.giveUpAfter)
        shiftWatch = ShiftWatch(margin: settings.overlap)
    }

    package var hasPendingWindows: Bool { !(checkpoint?.pending.isEmpty ?? true) }
    package var currentCheckpoint: EndpointCheckpoint? { checkpoint }

    /// One poll: the new window, then every owed window. A failure of the new window is thrown
    /// after the owed windows had their turn.
    package func poll(publisher: any EventPublisher) async throws {
        // One poll at a time: two interleaved on one checkpoint would each save over the other.
        guard !polling else { throw SourceStopped(reason: "\(stream): a poll is already running") }
        polling = true
        defer { polling = false }
        var cp = try await loadCheckpoint()
        let now = Timestamp.now()
        status.update(stream: stream) { $0.lastPollAt = now }
        var newWindowError: (any Error)?
        let end = now.adding(.zero - settings.lag)
        if end > cp.watermark {
            do {
                try await collectNewWindow(to: end, now: now, checkpoint: &cp, publisher: publisher)
            } catch let error where Self.endsThePoll(error) {
                throw error
            } catch {
                newWindowError = error
                cp = checkpoint ?? cp  // what progress saves recorded stands
            }
        }
        let failedWindows = try await recover(now: now, checkpoint: &cp, publisher: publisher)
        if !suspectWindows.isEmpty {
            for w in suspectWindows { scheduler.add(w, to: &cp.pending) }
            suspectWindows = []
            try await save(cp)
        }
        shiftWatch.forget(before: cp.watermark.adding(.zero - settings.overlap))
        if let newWindowError { throw newWindowError }
        status.update(stream: stream) { s in
            s.lastPollResult = cp.pending.isEmpty ? .complete : .partial
            s.lastSuccessAt = now
            s.watermark = cp.watermark
            s.pendingWindows = cp.pending.count
            s.lastError =
                failedWindows > 0 ? "\(failedWindows) owed window(s) failed to collect this poll; they stay owed" : nil
        }
    }

    /// Cancellation and sinks that did not accept stop the poll at once; anything else is one
    /// window's failure.
    static func endsThePoll(_ error: any Error) -> Bool {
        error is CancellationError || error is SourceStopped
    }

    private func collectNewWindow(
        to end: Timestamp, now: Timestamp, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher
    ) async throws {
        let start = cp.watermark.adding(.zero - settings.overlap)
        // Progress inside a window relies on pages coming oldest first across the whole answer;
        // legacy v1 alerts aggregate each provider's top results, so there it is only saved
        // when the window ends. A window long enough to be sliced is first asked for one page:
        // most are small (a quiet tenant's first week), and one request settles them.
        let mayBeSliced = settings.slices(from: start, to: end) != nil
        // A graceful stop left parts of this backfill collected: the rest, in slices about as long
        // as the longest of those (a slice done whole held about `pagesPerSlice` pages).
        let longestCollected = cp.collected.map { $0.to.duration(since: $0.from) }.max()
        if let longestCollected,
            let slices = settings.slices(
                from: start, to: end, pageSpan: longestCollected / Settings.pagesPerSlice)
        {
            try await collectSlices(slices.subtracting(cp.collected), now: now, checkpoint: &cp, publisher: publisher)
            try await endNewWindow(at: end, checkpoint: &cp)
            return
        }
        let result = try await collect(
            from: start, to: end, provider: nil, checkpoint: &cp, publisher: publisher,
            saveProgress: settings.endpoint != .alerts, pageLimit: mayBeSliced ? 1 : nil)
        if let reached = result.stoppedAt {
            // Alerts dated `reached` may go on past the first page: its audit stops just before.
            await account(
                for: result, from: start, to: reached, auditingTo: reached.adding(seconds: -0.000001), now: now,
                checkpoint: &cp, publisher: publisher)
            // The first page's own span tells the density (the window may begin long before its
            // first alert): slices hold about the same number of pages however big the backfill.
            let span = reached.duration(since: result.oldestSeen ?? start)
            if let slices = settings.slices(from: reached, to: end, pageSpan: span) {
                // A backfill: slices collected side by side, the checkpoint moving over them in order.
                try await collectSlices(slices, now: now, checkpoint: &cp, publisher: publisher)
            } else {
                let rest = try await collect(
                    from: reached, to: end, provider: nil, checkpoint: &cp, publisher: publisher, saveProgress: true)
                await account(for: rest, from: reached, to: end, now: now, checkpoint: &cp, publisher: publisher)
            }
        } else {
            await account(for: result, from: start, to: end, now: now, checkpoint: &cp, publisher: publisher)
        }
        try await endNewWindow(at: end, checkpoint: &cp)
    }

    /// The new window is collected: what it found suspect is owed, and the watermark moves to its end.
    private func endNewWindow(at end: Timestamp, checkpoint cp: inout EndpointCheckpoint) async throws {
        for w in suspectWindows { scheduler.add(w, to: &cp.pending) }
        suspectWindows = []
        cp.watermark = end
        prune(&cp)
        try await save(cp)
    }

    /// What a collected range owes (failing providers, a 206 that proved too little, an audit
    /// shortfall) goes into the checkpoint's ledger.
    func account(
        for result: WindowResult, from start: Timestamp, to end: Timestamp, auditingTo auditEnd: Timestamp? = nil,
        now: Timestamp, checkpoint cp: inout EndpointCheckpoint, publisher: any EventPublisher
    ) async {
        for provider in scheduler.owe(after: result, from: start, to: end, now: now, checkpoint: &cp) {
            logger.notice(
                "a provider that was given up on answers again; collecting it again",
                metadata: [
                    "provider": "\(provider)", "endpoint": "\(settings.endpoint.rawValue)",
                ])
        }
        if let reason = result.wholeWindowOwedBecause {
            logger.warning(
                "\(reason); the whole window will be collected again",
                metadata: [
                    "endpoint": "\(settings.endpoint.rawValue)", "from": "\(start)", "to": "\(end)",
                ])
        }
        if settings.audit, result.failures.isEmpty, result.wholeWindowOwedBecause == nil {
            await audit(result, from: start, to: auditEnd ?? end, now: now, checkpoint: &cp, publisher: publisher)
        }
    }

    /// Collects every owed window again, each on its own; returns how many failed.
    private func recover(now: Timestamp, checkpoint cp: inout EndpointCheckpoint, publisher: any EventPublisher)
        async throws -> Int
    {
        var queue = cp.pending
        var kept: [OwedWindow] = []
        var failed = 0
        while !queue.isEmpty {
            try Task.checkCancellation()
            if stop.isRequested { break }
            let window = queue.removeFirst()
            var also: [OwedWindow] = []
            let decision: RecoveryScheduler.Decision
            let keysBefore = cp.recentKeys
            do {
                let (d, unfilteredResult) = try await recollect(
                    window, now: now, checkpoint: &cp, publisher: publisher, also: &also)
                decision = d
                if let unfilteredResult {
                    // Everything in the range was asked for: it settles the other windows it covers.
                    let settled = scheduler.settled(
                        by: unfilteredResult, from: window.from, to: window.to, among: queue + kept)
                    queue.removeAll { settled.contains($0) }
                    kept.removeAll { settled.contains($0) }
                    for w in settled {
                        logger.notice(
                            "recovered an owed window with another window's collection",
                            metadata: [
                                "scope": "\(w.scope)", "endpoint": "\(settings.endpoint.rawValue)", "from": "\(w.from)",
                                "to": "\(w.to)",
                            ])
                    }
                }
            } catch let error where Self.endsThePoll(error) {
                throw error
            } catch {
                // What this attempt published is not known to be accepted: the next one repeats it.
                cp.recentKeys = keysBefore
                failed += 1
                let status = (error as? GraphError)?.status ?? 0
                decision = scheduler.failed(window, status: status, now: now)
                logger.warning(
                    "an owed window failed to collect; it stays owed and the other windows go on",
                    metadata: [
                        "scope": "\(window.scope)", "endpoint": "\(settings.endpoint.rawValue)",
                        "from": "\(window.from)",
                        "to": "\(window.to)", "error": "\(error)",
                    ])
            }
            switch decision {
            case .recovered:
                logger.notice(
                    "recovered an owed window",
                    metadata: [
                        "scope": "\(window.scope)", "endpoint": "\(settings.endpoint.rawValue)",
                        "from": "\(window.from)",
                        "to": "\(window.to)", "attempts": "\(window.attempts &+ 1)",
                    ])
            case .stillOwed(let w):
                kept.append(w)
            case .abandoned(let w):
                try await abandon(w, now: now, checkpoint: &cp, publisher: publisher)
            }
            for extra in also + suspectWindows where extra.scope.providerName.map({ cp.abandoned[$0] == nil }) ?? true {
                scheduler.add(extra, to: &kept)
            }
            suspectWindows = []
            // Recorded at once: a crash or a later failure never collects this window twice.
            cp.pending = kept + queue
            prune(&cp)
            try await save(cp)
        }
        return failed
    }

    /// Collects one owed window again; a provider filter Graph refuses (a 4xx other than the
    /// authentication and throttling ones) is dropped for the whole window, said once.
    /// Returns the decision, and the window's result when it was collected without a provider
    /// filter (it then proves the range for every provider it did not name).
    private func recollect(
        _ window: OwedWindow, now: Timestamp, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher, also: inout [OwedWindow]
    ) async throws
        -> (RecoveryScheduler.Decision, WindowResult?)
    {
        var window = window
        let result: WindowResult
        let keysBefore = cp.recentKeys
        do {
            result = try await collect(
                from: window.from, to: window.to, provider: window.queryProvider, checkpoint: &cp,
                publisher: publisher)
        } catch let error as GraphError
            where window.queryProvider != nil && error.kind == .badRequest
            && PageFetcher.topLimit(in: error.message) == nil && !error.message.contains("SkipToken")
        {
            // What the refused attempt published is not known to be accepted: publish it again.
            cp.recentKeys = keysBefore
            window.unfiltered = true
            let message =
                "Graph refused the query for \(window.scope) (\(error)); its window "
                + "\(window.from.iso8601(fractionDigits: 0))…\(window.to.iso8601(fractionDigits: 0)) is collected "
                + "without the provider filter, "
                + "de-duplicated, until it is recovered"
            logger.warning(
                "\(message)", metadata: ["endpoint": "\(settings.endpoint.rawValue)", "tenant": "\(settings.tenant)"])
            _ = try await publisher.publish([
                .health(
                    CollectorHealth(
                        component: "source:\(settings.sourceName)", level: .warning, code: "provider_filter_refused",
                        message: message,
                        details: [
                            "provider": window.scope.providerName ?? "", "endpoint": settings.endpoint.rawValue,
                            "tenant": settings.tenant,
                        ]))
            ])
            result = try await collect(
                from: window.from, to: window.to, provider: nil, checkpoint: &cp, publisher: publisher)
        }
        // `window` carries `unfiltered` into what the scheduler keeps.
        return (
            scheduler.decide(window, after: result, now: now, also: &also), window.queryProvider == nil ? result : nil
        )
    }

    private func abandon(
        _ window: OwedWindow, now: Timestamp, checkpoint cp: inout EndpointCheckpoint,
        publisher: any EventPublisher
    ) async throws {
        let who = window.scope.providerName ?? settings.endpoint.rawValue
        let age = Int(now.duration(since: window.firstFailure).components.seconds)
        let message =
            "giving up on \(who) for "
            + "\(window.from.iso8601(fractionDigits: 0))...\(window.to.iso8601(fractionDigits: 0)) "
            + "after \(window.attempts) attempts over \(age) s: it keeps answering \(window.lastStatus). Its alerts "
            + "for that window are "
            + "NOT collected, and its later failures no longer hold collection back (they are still reported). Fix "
            + "the licence or "
            + "permission, then collect the window again by moving the checkpoint back."
        logger.critical(
            "\(message)", metadata: ["endpoint": "\(settings.endpoint.rawValue)", "tenant": "\(settings.tenant)"])
        if let provider = window.scope.providerName { cp.abandoned[provider] = now }
        _ = try await publisher.publish([
            .health(
                CollectorHealth(
                    component: "source:\(settings.sourceName)", level: .critical, code: "provider_window_abandoned",
                    message: message,
                    details: [
                        "provider": who, "status": String(window.lastStatus), "tenant": settings.tenant,
                        "from": window.from.iso8601(), "to": window.to.iso8601(),
                    ]))
        ]).delivered()
    }
}
