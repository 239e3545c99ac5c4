import CollectorCore
import CollectorTesting
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import Logging

/// One seed: a simulator whose every request may draw a fault from the seed's schedule, the real
/// collection engine (EndpointCollector, GraphClient over loopback HTTP) for all three
/// endpoints, and the check that the latest version of every alert the simulator holds reached
/// the publisher.
struct ScheduleRun {
    struct Outcome {
        var seed: UInt64
        var requests = 0
        var polls = 0
        var failedPolls = 0
        var faults: [String: Int] = [:]
        var expected = 0
        var delivered = 0
        var duplicates = 0
        var missing: [String] = []
        var stalled: String?
        var seconds = 0.0
        var passed: Bool { missing.isEmpty && stalled == nil }
    }

    /// A deterministic generator for the seed's shape.
    struct Dice {
        var state: UInt64
        mutating func callAsFunction(_ bound: Int) -> Int {
            state = AlertGenerator.mix(state)
            return Int(state % UInt64(max(1, bound)))
        }
    }

    static let providers = [
        "Microsoft Defender ATP", "Defender and Sentinel", "O'Brien's Watch", "Azure Advanced Threat Protection",
        "MCAS (legacy)",
    ]

    let seed: UInt64
    let scale: Int
    let logger: Logger
    /// How long a seed may take to catch up once the data stops moving before it counts as a stall.
    let convergenceLimit: Duration

    func run() async throws -> Outcome {
        let started = ContinuousClock.now
        var outcome = Outcome(seed: seed)
        var dice = Dice(state: AlertGenerator.mix(seed))
        var c = SimulatorConfiguration()
        c.seed = seed
        c.alertsV1 = (15 + dice(40)) * scale
        c.alertsV2 = (15 + dice(40)) * scale
        c.incidents = (5 + dice(20)) * scale
        c.history = .seconds(6 * 3600)
        c.providers = Self.providers
        c.tokenLifetime = .seconds(Double(2 + dice(4)))
        if dice(4) == 0 { c.maxPageSize = 7 }
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        await simulator.inject(FaultSchedule(seed: seed, providers: c.providers))
        let http = HTTPClient()
        let state = TemporaryDirectory(prefix: "fault-schedule-\(seed)")
        defer { state.remove() }
        let client = GraphClient.make(
            cloud: GraphCloud(loginURL: url, graphURL: url), tenant: c.tenantId, clientId: c.clientId,
            secret: c.clientSecret,
            http: http, requestsPerMinute: 1_000_000,
            retry: RetryPolicy(initialDelay: .seconds(0.001), maxDelay: .seconds(0.004)),
            maxAttempts: 3, logger: logger)
        let publisher = RecordingPublisher()
        let status = SourceStatusBoard(source: "fault-schedule")
        let audit = dice(2) == 0
        let expand = dice(2) == 0
        var collectors: [EndpointCollector] = []
        for endpoint in [GraphEndpoint.alerts, .alertsV2, .incidents] {
            var settings = EndpointCollector.Settings(
                tenant: c.tenantId, endpoint: endpoint, graphURL: url, pageSize: endpoint == .incidents ? 6 : 10,
                lag: .zero,
                overlap: .seconds(2), lookBack: .seconds(86_400), giveUpAfter: .seconds(86_400 * 365),
                sourceName: "fault-schedule")
            settings.audit = audit && endpoint != .alerts
            settings.expandAlerts = expand
            collectors.append(
                EndpointCollector(
                    settings: settings, client: client,
                    store: CheckpointFile(path: state.file("\(endpoint.rawValue).json")),
                    logger: logger, status: status))
        }
        // Churn: the schedule updates alerts (some dated late) among its faults.
        let churn = 40 + dice(100)
        while await simulator.statistics.apiRequests < churn {
            for collector in collectors { await poll(collector, publisher, &outcome) }
        }
        await simulator.freeze()
        let quiet = Timestamp.now()
        // Convergence: the data no longer moves; faults go on. Every endpoint must catch up.
        let deadline = ContinuousClock.now + convergenceLimit
        var done = Set<Int>()
        while done.count < collectors.count {
            guard ContinuousClock.now < deadline else {
                outcome.stalled = "did not catch up within \(convergenceLimit) of the data going quiet"
                break
            }
            for (i, collector) in collectors.enumerated() where !done.contains(i) {
                await poll(collector, publisher, &outcome)
                if let cp = await collector.currentCheckpoint, cp.watermark >= quiet, cp.pending.isEmpty {
                    done.insert(i)
                }
            }
        }
        Self.compare(truth: await simulator.truth(), with: await publisher.events, into: &outcome)
        outcome.requests = await simulator.statistics.apiRequests
        outcome.faults = await simulator.faultsDrawn
        await http.shutdown()
        await simulator.stop()
        outcome.seconds =
            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            + Double((ContinuousClock.now - started).components.seconds)
        return outcome
    }

    /// What the simulator shows against what was delivered: expected, delivered, duplicates, and
    /// each missing version with what did arrive of that alert.
    static func compare(truth: [GraphEndpoint: Set<String>], with events: [Event], into outcome: inout Outcome) {
        for (endpoint, keys) in truth {
            let delivered = events.compactMap(\.alert).filter { $0.kind == endpoint.alertKind }.map(\.deduplicationKey)
            let distinct = Set(delivered)
            outcome.expected += keys.count
            outcome.delivered += distinct.count
            outcome.duplicates += delivered.count - distinct.count
            for key in keys.subtracting(distinct).sorted() {
                let id = key.split(separator: "@").first.map(String.init) ?? key
                let seen = distinct.filter { $0.hasPrefix(id + "@") }.sorted()
                outcome.missing.append(
                    "\(endpoint.rawValue): \(key)"
                        + (seen.isEmpty ? " (no version of it arrived)" : " (arrived: \(seen.joined(separator: ", ")))")
                )
            }
        }
    }

    /// One poll; a failure is counted, the next poll retries (as the daemon's loop does, minus the wait).
    func poll(_ collector: EndpointCollector, _ publisher: RecordingPublisher, _ outcome: inout Outcome) async {
        outcome.polls += 1
        do {
            try await collector.poll(publisher: publisher)
        } catch {
            outcome.failedPolls += 1
            logger.debug("poll failed", metadata: ["stream": "\(collector.stream)", "error": "\(error)"])
        }
    }
}
