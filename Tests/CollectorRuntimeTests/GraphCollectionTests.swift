import CollectorCore
import CollectorRuntime
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import Logging
import Synchronization
import Testing

/// Collection from the simulator over real loopback HTTP, through the whole runtime, into an
/// in-memory sink.
struct SimulatorRun {
    let simulator: GraphSimulator
    var url: String
    let state = TemporaryDirectory(prefix: "graph-state")

    init(_ configure: (inout SimulatorConfiguration) -> Void) async throws {
        var c = SimulatorConfiguration()
        c.alertsV2 = 300
        c.alertsV1 = 240
        c.incidents = 60
        configure(&c)
        simulator = GraphSimulator(configuration: c)
        url = try await simulator.start()
    }

    /// Runs the collector until it has caught up; returns what the sink received. With
    /// `whileHeld`, the sink takes nothing more once it has its first events, until that returns.
    func collect(
        endpoints: String = "[alerts_v2, incidents, alerts]", extra: String = "", sinkExtra: String = "",
        batch: String = "{max_delay: 20ms}", credentials: String? = nil, cancelAfter: Duration? = nil,
        whileHeld: (@Sendable () async -> Void)? = nil
    ) async throws -> (events: [Event], summary: CollectorApplication.Summary?) {
        let key = UUID().uuidString
        var registry = PluginRegistry.builtins()
        registry.register(sink: InMemorySink.Plugin.self)
        let c = simulator.configuration
        let yaml = """
            state_directory: \(state.path)
            pipeline: {drain_timeout: 300ms}
            sources:
              - type: graph-security
                login_url: \(url)
                graph_url: \(url)
                tenants:
                  - {tenant_id: \(c.tenantId), client_id: \(c.clientId), \(credentials ?? "client_secret: \(c.clientSecret)")}
                endpoints: \(endpoints)
                poll_interval: 100ms
                ingestion_lag: 0s
                stop_when_caught_up: true
                max_attempts: 20
                retry: {initial_delay: 20ms, max_delay: 200ms}
            \(extra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            sinks:
              - type: memory
                key: \(key)
                batch: \(batch)
            \(sinkExtra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
            """
        let loaded = try ConfigLoader.load(text: yaml, name: "test.yaml", directory: state.path, registry: registry)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        if let whileHeld {
            Task {
                let deadline = ContinuousClock.now + .seconds(60)  // a run that never delivers ends anyway
                while await InMemorySink.Plugin.sink(forKey: key)?.events.isEmpty ?? true,
                    ContinuousClock.now < deadline
                {
                    try? await Task.sleep(for: .milliseconds(1))
                }
                let sink = InMemorySink.Plugin.sink(forKey: key)
                await sink?.pause()
                await whileHeld()
                await sink?.resume()
            }
        }
        let task = Task { try await CollectorApplication.run(loaded, logger: logger) }
        if let cancelAfter {
            try await Task.sleep(for: cancelAfter)
            task.cancel()
        }
        let summary = try? await task.value
        let sink = try #require(InMemorySink.Plugin.sink(forKey: key))
        return (await sink.events, summary)
    }

    func checkpoint(_ endpoint: String) throws -> JSONValue? {
        let path = state.file("sources/graph-security/\(simulator.configuration.tenantId)/\(endpoint).checkpoint.json")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONParser.parse(bytes: Array(data))
    }
}

func alertKeys(_ events: [Event], _ kind: SecurityAlert.Kind) -> [String] {
    events.compactMap { $0.alert }.filter { $0.kind == kind }.map(\.id)
}

@Suite(.serialized) struct GraphCollectionTests {
    func expectComplete(_ run: SimulatorRun, _ events: [Event], excluding providers: Set<String> = []) async {
        for (endpoint, kind) in [
            (GraphEndpoint.alertsV2, SecurityAlert.Kind.alertV2), (.incidents, .incident), (.alerts, .alertV1),
        ] {
            var expected = await run.simulator.visibleIDs(endpoint)
            if endpoint == .alerts && !providers.isEmpty {
                let all = events.compactMap { $0.alert }.filter { $0.kind == .alertV1 }
                #expect(!all.contains { providers.contains($0.provider ?? "") })
                expected = expected.filter { id in all.contains { $0.id == id } || !providers.isEmpty }
            }
            let got = alertKeys(events, kind)
            #expect(got.count == Set(got).count, "\(endpoint): \(got.count - Set(got).count) duplicates")
            if providers.isEmpty || endpoint != .alerts {
                #expect(Set(got) == Set(expected), "\(endpoint): got \(got.count), simulator shows \(expected.count)")
            }
        }
    }

    @Test func collectsEverythingWithNoFaults() async throws {
        let run = try await SimulatorRun { _ in }
        let (events, _) = try await run.collect()
        await expectComplete(run, events)
        #expect(try run.checkpoint("alerts_v2")?["watermark"] != nil)
        // A second run finds nothing new: the overlap's repeats are removed as duplicates.
        let (again, _) = try await run.collect()
        #expect(again.compactMap(\.alert).isEmpty)
        await run.simulator.stop()
    }

    @Test(arguments: [
        ("throttling (429 + Retry-After)", "throttle_every"), ("server errors (503)", "server_error_every"),
        ("truncated bodies", "truncate_every"), ("token revoked mid-paging (401)", "revoke_token_every"),
        ("nextLink refused (SkipToken)", "reject_skip_token_every"),
    ])
    func everyAlertArrivesDespite(fault: String, key: String) async throws {
        let run = try await SimulatorRun { c in
            switch key {
            case "throttle_every": c.throttleEvery = 3
            case "server_error_every": c.serverErrorEvery = 3
            case "truncate_every": c.truncateEvery = 3
            case "revoke_token_every": c.revokeTokenEvery = 3
            default: c.rejectSkipTokenEvery = 2
            }
        }
        // Small pages, so that faults land in the middle of paging.
        let (events, _) = try await run.collect(extra: "page_size: {alerts: 40, alerts_v2: 40, incidents: 20}")
        await expectComplete(run, events)
        let stats = await run.simulator.statistics
        if key == "throttle_every" { #expect(stats.throttled > 0) }
        if key == "reject_skip_token_every" { #expect(stats.rejected > 0) }
        await run.simulator.stop()
    }

    @Test func newEnumMembersArriveByNameAndIncidentsCarryTheirAlertsEvidence() async throws {
        let run = try await SimulatorRun { _ in }
        let (events, _) = try await run.collect(endpoints: "[alerts_v2, incidents]", extra: "expand_alerts: true")
        let alerts = events.compactMap(\.alert)
        let sources = Set(alerts.filter { $0.kind == .alertV2 }.compactMap(\.detectionSource))
        #expect(!sources.isDisjoint(with: AlertGenerator.evolvableDetectionSources), "\(sources)")
        #expect(!sources.contains("unknownFutureValue"))
        // Asked without the Prefer header (as other collectors do), Graph hides them.
        let hidden = alerts.filter { $0.kind == .alertV2 }.map { GraphSimulatorTesting.hidingNewMembers($0.raw.value) }
        #expect(hidden.contains { $0["detectionSource"]?.stringValue == "unknownFutureValue" })
        let incidents = alerts.filter { $0.kind == .incident }
        #expect(
            !incidents.isEmpty && incidents.allSatisfy { !$0.evidence.hosts.isEmpty && !$0.mitreTechniques.isEmpty })
        await run.simulator.stop()
    }

    @Test func lowersPageSizeWhenTheAPIRefusesIt() async throws {
        let run = try await SimulatorRun { $0.maxPageSize = 70 }
        let (events, _) = try await run.collect()
        await expectComplete(run, events)
        #expect(await run.simulator.statistics.rejected >= 1)
        await run.simulator.stop()
    }

    @Test func aProviderFailingFor3PollsIsRecoveredAfterItReturns() async throws {
        let run = try await SimulatorRun {
            $0.failingProviders = [.init(provider: "IPC", status: 504, failures: 3, latencyMilliseconds: 10_000)]
        }
        let (events, _) = try await run.collect(endpoints: "[alerts]")
        let warnings = events.compactMap(\.providerWarning)
        #expect(
            warnings.count == 3
                && warnings.allSatisfy { $0.provider == "IPC" && $0.httpStatus == 504 && !$0.isPersistent })
        let got = alertKeys(events, .alertV1)
        #expect(Set(got) == Set(await run.simulator.visibleIDs(.alerts)))
        #expect(got.count == Set(got).count)
        // IPC's alerts arrived after its warnings (the recovery), not before.
        let ipc = events.compactMap(\.alert).filter { $0.provider == "IPC" }
        #expect(ipc.count == 40)
        #expect(try run.checkpoint("alerts")?["pending"]?.arrayValue?.isEmpty == true)
        // The status file counts the warnings by provider and shows the stream caught up.
        let status = try JSONParser.parse(
            bytes: Array(try #require(FileManager.default.contents(atPath: run.state.file("status.json")))))
        let stream = try #require(
            status["streams"]?.arrayValue?.first {
                $0["stream"]?.stringValue == "\(run.simulator.configuration.tenantId)/alerts"
            })
        let byProvider = stream["provider_warnings"]?.objectMembers ?? []
        #expect(
            byProvider.count == 1 && byProvider[0].0.hasSuffix("/IPC") && byProvider[0].1.intValue == 3, "\(stream)")
        #expect(stream["last_poll_result"]?.stringValue == "complete" && stream["pending_windows"]?.intValue == 0)
        #expect((stream["watermark_lag_seconds"]?.intValue ?? 999) < 60)
        await run.simulator.stop()
    }

    @Test func aPersistentlyForbiddenProviderStopsHoldingBackAndIsReported() async throws {
        let run = try await SimulatorRun { $0.failingProviders = [.init(provider: "MCAS", status: 403)] }
        let (events, _) = try await run.collect(endpoints: "[alerts]", extra: "provider_give_up_after: 300ms")
        let abandoned = events.compactMap { e -> CollectorHealth? in
            if case .health(let h) = e { return h } else { return nil }
        }
        .filter { $0.code == "provider_window_abandoned" }
        #expect(abandoned.count == 1 && abandoned[0].level == .critical && abandoned[0].details["provider"] == "MCAS")
        #expect(
            events.compactMap(\.providerWarning).allSatisfy { $0.isPersistent && $0.diagnosis.contains("licensed") })
        let got = Set(alertKeys(events, .alertV1))
        #expect(got.count == 200)  // 240 minus MCAS's 40
        #expect(try run.checkpoint("alerts")?["abandoned"]?["MCAS"] != nil)
        await run.simulator.stop()
    }

    @Test func updatesAreCollectedAgainAndDuplicatesRemoved() async throws {
        let run = try await SimulatorRun { c in
            c.alertsV2 = 0
            c.arrivalRate = 20
            c.updateAfter = .seconds(1.5)
        }
        try await Task.sleep(for: .milliseconds(600))
        let (first, _) = try await run.collect(endpoints: "[alerts_v2]")
        try await Task.sleep(for: .seconds(2))
        let (second, _) = try await run.collect(endpoints: "[alerts_v2]")
        let firstAlerts = first.compactMap(\.alert)
        let secondAlerts = second.compactMap(\.alert)
        #expect(!firstAlerts.isEmpty)
        // Alerts seen new in the first run come again, updated, in the second.
        let updated = secondAlerts.filter { s in
            firstAlerts.contains { $0.id == s.id && $0.lastUpdatedAt != s.lastUpdatedAt }
        }
        #expect(!updated.isEmpty)
        let keys = (firstAlerts + secondAlerts).map(\.deduplicationKey)
        #expect(keys.count == Set(keys).count)
        await run.simulator.stop()
    }

    @Test func lateArrivingAlertsAreNotMissed() async throws {
        // Alerts become visible 1.5 s after their time; the collector's lag is 0, so each window
        // ends before late alerts show up. The overlap re-reads the edge and catches them.
        let run = try await SimulatorRun { c in
            c.alertsV2 = 0
            c.arrivalRate = 25
            c.updateAfter = .seconds(3600)
            c.ingestionDelay = .seconds(1.5)
        }
        var seen = Set<String>()
        var lastStart = Timestamp.now()
        for _ in 0..<4 {
            try await Task.sleep(for: .milliseconds(700))
            lastStart = .now()
            let (events, _) = try await run.collect(endpoints: "[alerts_v2]")
            let ids = alertKeys(events, .alertV2)
            #expect(Set(ids).isDisjoint(with: seen), "an alert was delivered twice")
            seen.formUnion(ids)
        }
        // Everything visible when the last run started must have been delivered by then.
        let visible = Set(await run.simulator.visibleIDs(.alertsV2, now: lastStart))
        #expect(visible.count > 20)
        #expect(visible.isSubset(of: seen), "missed \(visible.subtracting(seen).count) late alerts")
        await run.simulator.stop()
    }

    @Test func theCheckpointNeverPassesUnacknowledgedEvents() async throws {
        let run = try await SimulatorRun { _ in }
        // The only sink is down: the run is stopped after a while, and nothing may be checkpointed.
        let (refused, summary) = try await run.collect(
            endpoints: "[alerts_v2]", sinkExtra: "fail_writes: true\nretry: {initial_delay: 10ms, max_delay: 20ms}",
            cancelAfter: .milliseconds(1500))
        #expect(refused.isEmpty)
        #expect(summary == nil || summary!.sinks[0].accepted == 0)
        #expect(try run.checkpoint("alerts_v2") == nil)
        // The receiver is back: everything arrives, because the checkpoint never moved.
        let (events, _) = try await run.collect(endpoints: "[alerts_v2]")
        #expect(Set(alertKeys(events, .alertV2)) == Set(await run.simulator.visibleIDs(.alertsV2)))
        await run.simulator.stop()
    }

    /// A backfill in slices asks for a slice's next page only when the sinks' queues have room for
    /// a page from each slice: while they take nothing, it holds what the queues can, not that
    /// and a page per slice blocked on top.
    @Test func aBackfillInSlicesFetchesNoMoreThanTheSinksQueuesCanTake() async throws {
        let run = try await SimulatorRun { c in
            c.alertsV2 = 2000
            c.alertsV1 = 0
            c.incidents = 0
        }
        let requests = Mutex<[Int]>([])
        let (events, _) = try await run.collect(
            endpoints: "[alerts_v2]",
            extra: "page_size: {alerts_v2: 50}\nrequests_per_minute: 100000\nparallel_slices: 4",
            sinkExtra: "queue_capacity: 200", batch: "{max_events: 50, max_delay: 20ms}",
            whileHeld: { [simulator = run.simulator] in
                let before = await simulator.statistics.apiRequests
                try? await Task.sleep(for: .seconds(1.5))
                let after = await simulator.statistics.apiRequests
                requests.withLock { $0 = [before, after] }
            })
        // The sink holds a page (a batch of 50) in its write and three more behind it: its queue
        // of 200 events is full. A slice asks again only while the queue has room for a page from
        // every slice (here three, leaving room for one more); slices that each fetched a page
        // and then waited on the full queue with it made it eight.
        let counts = requests.withLock { $0 }
        try #require(counts.count == 2)
        #expect(counts[1] - counts[0] <= 6, "\(counts[1] - counts[0]) requests while the sink took nothing")
        let got = alertKeys(events, .alertV2)
        let visible = await run.simulator.visibleIDs(.alertsV2)
        #expect(got.count == 2000 && Set(got) == Set(visible))
        await run.simulator.stop()
    }

    @Test func aLongWindowCheckpointsItsProgressSoARestartRepeatsLittle() async throws {
        let run = try await SimulatorRun { c in
            c.alertsV2 = 3000
            c.alertsV1 = 0
            c.incidents = 0
            c.pageDelay = .seconds(0.05)
        }
        // Stopped part-way through its one long window (60 pages of 50), collected whole (not in
        // slices: ManyTenantsTests covers those).
        let (first, _) = try await run.collect(
            endpoints: "[alerts_v2]",
            extra: "page_size: {alerts_v2: 50}\nrequests_per_minute: 100000\nparallel_slices: 1",
            cancelAfter: .milliseconds(2500))
        let firstIDs = alertKeys(first, .alertV2)
        #expect(firstIDs.count > 200 && firstIDs.count < 3000, "\(firstIDs.count) delivered before the stop")
        let saved = try #require(
            try run.checkpoint("alerts_v2")?["watermark"]?.stringValue.flatMap(Timestamp.init(iso8601:)))
        // Everything up to the saved watermark was delivered in the first run.
        let upTo = Set(first.compactMap(\.alert).filter { $0.kind == .alertV2 && $0.lastUpdatedAt! <= saved }.map(\.id))
        #expect(upTo.count > 100)
        let (second, _) = try await run.collect(
            endpoints: "[alerts_v2]", extra: "page_size: {alerts_v2: 50}\nrequests_per_minute: 100000")
        let secondIDs = alertKeys(second, .alertV2)
        #expect(Set(firstIDs).union(secondIDs) == Set(await run.simulator.visibleIDs(.alertsV2)))
        // The second run starts near where the first stopped: it repeats what was published after
        // the last progress save (at most about a second of pages), not the whole first run.
        let repeated = Set(firstIDs).intersection(secondIDs).count
        #expect(repeated <= firstIDs.count - upTo.count, "\(repeated) of \(firstIDs.count) collected again")
        await run.simulator.stop()
    }

    @Test func legacyAlertsAreCheckpointedOnlyWhenTheWindowEnds() async throws {
        // v1 pages aggregate each provider's top results, so they are not in one time order:
        // progress inside the window could skip alerts and is not saved.
        let run = try await SimulatorRun { c in
            c.alertsV2 = 0
            c.alertsV1 = 2000
            c.incidents = 0
            c.pageDelay = .seconds(0.05)
        }
        let (first, _) = try await run.collect(
            endpoints: "[alerts]", extra: "page_size: {alerts: 50}\nrequests_per_minute: 100000",
            cancelAfter: .milliseconds(2000))
        #expect(alertKeys(first, .alertV1).count > 100)
        #expect(try run.checkpoint("alerts") == nil)
        await run.simulator.stop()
    }

    @Test func signsInWithACertificate() async throws {
        let keys = TemporaryDirectory(prefix: "graph-cert")
        defer { keys.remove() }
        for name in ["app", "other"] {
            let made = try await CollectorProcess.runTool(
                "/usr/bin/env",
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keys.file("\(name).key"),
                    "-out", keys.file("\(name).crt"), "-days", "2", "-subj", "/CN=graph-collector-\(name)",
                ])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let certificate = try String(contentsOfFile: keys.file("app.crt"), encoding: .utf8)
        let run = try await SimulatorRun { $0.clientCertificate = certificate }
        let (events, _) = try await run.collect(
            endpoints: "[incidents]",
            credentials: "certificate_file: \(keys.file("app.crt")), private_key_file: \(keys.file("app.key"))")
        #expect(Set(alertKeys(events, .incident)) == Set(await run.simulator.visibleIDs(.incidents)))
        #expect(await run.simulator.statistics.tokensIssued >= 1)
        // A key that does not belong to the registered certificate is refused, and said so.
        let (refused, _) = try await run.collect(
            endpoints: "[incidents]",
            credentials: "certificate_file: \(keys.file("other.crt")), private_key_file: \(keys.file("other.key"))")
        let health = refused.compactMap { e -> CollectorHealth? in
            if case .health(let h) = e { return h } else { return nil }
        }
        #expect(health.contains { $0.code == "auth_failed" && $0.message.contains("AADSTS700027") })
        await run.simulator.stop()
    }

    @Test func oneHundredThousandAlertsArriveExactlyOnce() async throws {
        let run = try await SimulatorRun { c in
            c.alertsV2 = 100_000
            c.alertsV1 = 0
            c.incidents = 0
        }
        let (events, _) = try await run.collect(endpoints: "[alerts_v2]", extra: "requests_per_minute: 100000")
        let ids = alertKeys(events, .alertV2)
        let expected = await run.simulator.visibleCount(.alertsV2)
        #expect(expected == 100_000)
        #expect(ids.count == expected && Set(ids).count == expected)
        await run.simulator.stop()
    }
}
