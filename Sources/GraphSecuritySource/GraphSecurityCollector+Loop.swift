public import CollectorCore
import Logging

extension GraphSecurityCollector {
    public func run(publisher: any EventPublisher) async throws {
        defer { Task { await http.shutdown() } }
        if configuration.endpoints.contains(.alerts) {
            context.logger.warning("\(configuration.advice.joined(separator: " "))")
        }
        let pages = PageBudget(pages: configuration.pagesInMemory, stop: context.stop)
        guard let coordination = context.coordination else {
            try await run(collectors(configuration.tenants, stop: context.stop, pages: pages), publisher: publisher)
            return
        }
        // A fleet: only the tenants this instance owns, each until it goes to another instance.
        let tenants = Dictionary(configuration.tenants.map { ($0.tenantId, $0) }, uniquingKeysWith: { a, _ in a })
        try await coordination.runOwned(
            source: context.name, units: configuration.tenants.map(\.tenantId), stop: context.stop
        ) { unit, stop in
            guard let tenant = tenants[unit] else { return }
            try await run(collectors([tenant], stop: stop, pages: pages), publisher: publisher)
        }
    }

    private func run(_ collectors: [EndpointCollector], publisher: any EventPublisher) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for collector in collectors {
                group.addTask { try await loop(collector, publisher: publisher) }
            }
            try await group.waitForAll()
        }
    }

    /// Polls one endpoint of one tenant until stopped (or caught up, in one-shot mode). A failed
    /// poll is retried less and less often; an endpoint that retrying will not fix is reported
    /// once, critically, and tried again every `unavailable_retry_interval`, while the tenant's
    /// other endpoints go on.
    func loop(_ collector: EndpointCollector, publisher: any EventPublisher) async throws {
        let endpoint = collector.settings.endpoint
        let tenant = collector.settings.tenant
        let stop = collector.stop  // the source's, or its tenant's in a fleet
        var failures = 0
        var tracker = EndpointAvailability(endpoint: endpoint)
        while true {
            try Task.checkCancellation()
            if stop.isRequested { return }
            // Polls start every poll interval (not an interval after the last one ended), so an
            // alert waits at most the interval for its poll while polls take less than half of it.
            let pollStarted = ContinuousClock.now
            do {
                try await collector.poll(publisher: publisher)
                failures = 0
                if tracker.succeeded() {
                    context.logger.notice(
                        "the endpoint answers again",
                        metadata: ["endpoint": "\(endpoint.rawValue)", "tenant": "\(tenant)"])
                    collector.status.update(stream: collector.stream) { $0.unavailable = nil }
                }
                if configuration.stopWhenCaughtUp, await !collector.hasPendingWindows {
                    let delivered = await collector.delivered
                    let duplicates = await collector.duplicatesDropped
                    context.logger.info(
                        "caught up",
                        metadata: [
                            "endpoint": "\(endpoint.rawValue)", "tenant": "\(tenant)",
                            "alerts": "\(delivered)", "duplicates_dropped": "\(duplicates)",
                        ])
                    return
                }
                // A poll that took longer than the interval still rests half of it: back-to-back
                // polls would feed a slow Graph, or a loaded machine, more load.
                let interval = configuration.pollInterval.duration
                let untilNext = ContinuousClock.now.duration(to: pollStarted.advanced(by: interval))
                try await stop.sleep(for: max(untilNext, interval / 2))
            } catch is CancellationError {
                if stop.isRequested && !Task.isCancelled { return }
                throw CancellationError()
            } catch is PagesStopped where stop.isRequested {
                return  // stopping while waiting to fetch a page: not a poll failure
            } catch {
                // Cancelled mid-poll (the grace period of a shutdown ran out): not a poll failure.
                if Task.isCancelled { throw CancellationError() }
                failures += 1
                if let unavailable = tracker.failed(error) {
                    try await reportUnavailable(unavailable, collector: collector, publisher: publisher)
                    if configuration.stopWhenCaughtUp { return }
                    try await stop.sleep(for: configuration.unavailableRetryInterval.duration)
                    continue
                }
                try await reportFailure(error, failures: failures, collector: collector, publisher: publisher)
                if configuration.stopWhenCaughtUp { throw error }
                // Keep trying (a fixed permission or a recovered service resumes collection), less often.
                let wait = min(configuration.pollInterval.seconds * Double(min(failures, 10)), 900)
                try await stop.sleep(for: .milliseconds(Int64(wait * 1000)))
            }
        }
    }

    private func reportFailure(
        _ error: any Error, failures: Int, collector: EndpointCollector, publisher: any EventPublisher
    ) async throws {
        let endpoint = collector.settings.endpoint.rawValue
        let message = "poll of \(endpoint) failed: \(error)"
        collector.status.update(stream: collector.stream) { s in
            s.lastPollResult = .failed
            s.lastError = message
        }
        context.logger.error(
            "\(message)", metadata: ["tenant": "\(collector.settings.tenant)", "consecutive_failures": "\(failures)"])
        let code = (error as? GraphError)?.kind == .authentication ? "auth_failed" : "poll_failed"
        _ = try? await publisher.publish([
            .health(
                CollectorHealth(
                    component: "source:\(context.name)", level: .error, code: code, message: message,
                    details: ["endpoint": endpoint, "tenant": collector.settings.tenant]))
        ])
    }

    /// One critical event the first time (and when the reason changes); a debug line after that.
    private func reportUnavailable(
        _ unavailable: EndpointAvailability.Unavailable, collector: EndpointCollector,
        publisher: any EventPublisher
    ) async throws {
        let endpoint = collector.settings.endpoint.rawValue
        let retry = configuration.unavailableRetryInterval
        collector.status.update(stream: collector.stream) { s in
            s.lastPollResult = .failed
            s.lastError = unavailable.message
            s.unavailable = unavailable.action
        }
        let metadata: Logger.Metadata = ["endpoint": "\(endpoint)", "tenant": "\(collector.settings.tenant)"]
        guard unavailable.isNew else {
            context.logger.debug("endpoint still unavailable", metadata: metadata)
            return
        }
        let message =
            "\(unavailable.message). \(unavailable.action). It is tried again every \(retry); the tenant's other "
            + "endpoints go on."
        context.logger.critical("\(message)", metadata: metadata)
        _ = try? await publisher.publish([
            .health(
                CollectorHealth(
                    component: "source:\(context.name)", level: .critical, code: "endpoint_unavailable",
                    message: message,
                    details: ["endpoint": endpoint, "tenant": collector.settings.tenant, "retry_interval": "\(retry)"]))
        ])
    }
}

/// Tells errors that retrying will not fix from passing ones, for one endpoint: 404/410 (the
/// endpoint is gone: retired, or not in this cloud or API version), a 400 that persists over two
/// polls (a filter Graph will not take), a 403 that persists (the app lacks the permission).
struct EndpointAvailability {
    struct Unavailable: Equatable {
        var message: String
        var action: String
        /// First report of this reason (the caller says it loudly once).
        var isNew: Bool
    }

    let endpoint: GraphEndpoint
    private var consecutive: (kind: GraphError.Kind, count: Int)?
    private var reported: String?

    init(endpoint: GraphEndpoint) { self.endpoint = endpoint }

    /// A poll succeeded: true when the endpoint had been reported unavailable.
    mutating func succeeded() -> Bool {
        consecutive = nil
        defer { reported = nil }
        return reported != nil
    }

    /// A poll failed: the unavailability it shows, if retrying will not fix it.
    mutating func failed(_ error: any Error) -> Unavailable? {
        guard let graph = error as? GraphError else {
            consecutive = nil
            return nil
        }
        let count = consecutive?.kind == graph.kind ? consecutive!.count + 1 : 1
        consecutive = (graph.kind, count)
        let found: (String, String)?
        switch graph.kind {
        case .gone where endpoint == .alerts:
            found = (
                "Graph answers \(graph.status ?? 0) for the legacy alerts endpoint (/security/alerts, v1)",
                "Microsoft retired it on \(GraphSecurityCollector.Configuration.legacyAlertsRetirement): collect "
                    + "alerts_v2 and incidents instead (README: Legacy v1 alerts)"
            )
        case .gone:
            found = (
                "Graph answers \(graph.status ?? 0) for \(endpoint.rawValue): \(graph.message)",
                "check the source's cloud, graph_url and api_version: the endpoint does not exist there"
            )
        case .badRequest where count >= 2:
            found = (
                "Graph refuses the \(endpoint.rawValue) query poll after poll (\(graph))",
                "check the source's filter and page_size: Graph will not take them"
            )
        case .authentication where graph.status == 403 && count >= 2:
            found = (
                "Graph refuses access to \(endpoint.rawValue) (\(graph))",
                "grant the app registration \(endpoint.requiredPermission) (application permission, admin consent)"
            )
        default:
            found = nil
        }
        guard let (message, action) = found else { return nil }
        let isNew = reported != message
        reported = message
        return Unavailable(message: message, action: action, isNew: isNew)
    }
}
