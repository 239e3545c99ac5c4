import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import Logging
import Synchronization
import Testing

/// A Graph that answers from a script, without HTTP: each request is matched against rules in
/// order; the first that applies answers (or throws).
final class ScriptedGraph: GraphListing {
    struct Rule: Sendable {
        var applies: @Sendable (String) -> Bool
        var answer: @Sendable (String) throws -> GraphAnswer
    }

    let rules: Mutex<[Rule]>
    let requests = Mutex<[String]>([])

    init(_ rules: [Rule]) { self.rules = Mutex(rules) }

    func list(_ url: String) async throws -> GraphAnswer {
        let decoded = url.removingPercentEncoding ?? url
        requests.withLock { $0.append(decoded) }
        guard let rule = rules.withLock({ $0.first { $0.applies(decoded) } }) else {
            return GraphAnswer(status: 200, page: GraphPage(items: [], nextLink: nil))
        }
        return try rule.answer(decoded)
    }

    /// v1 items of `provider` at `t0 + seconds`.
    static func alerts(_ specs: [(String, String, Double)]) -> [JSONValue] {
        specs.map { id, provider, seconds in
            .object([
                ("id", .string(id)), ("title", "x"),
                ("lastModifiedDateTime", .string(PageProcessorTests.t0.adding(seconds: seconds).iso8601())),
                ("vendorInformation", .object([("provider", .string(provider)), ("vendor", "Microsoft")])),
            ])
        }
    }
}

@Suite struct EndpointCollectorTests {
    static let t0 = PageProcessorTests.t0

    func collector(_ graph: ScriptedGraph, state: TemporaryDirectory) -> EndpointCollector {
        let settings = EndpointCollector.Settings(
            tenant: "t", endpoint: .alerts, graphURL: "https://graph.test", pageSize: 100, lag: .zero,
            overlap: .seconds(60),
            lookBack: .seconds(86_400), giveUpAfter: .seconds(86_400), sourceName: "graph")
        return EndpointCollector(
            settings: settings, client: graph, store: CheckpointFile(path: state.file("cp.json")),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            status: SourceStatusBoard(source: "graph"))
    }

    func owing(_ windows: [OwedWindow], state: TemporaryDirectory) throws {
        var cp = EndpointCheckpoint(watermark: .now())
        cp.pending = windows
        try state.write("cp.json", JSONWriter.string(cp.json))
    }

    func window(_ provider: String) -> OwedWindow {
        OwedWindow(
            scope: .provider(provider), from: Self.t0, to: Self.t0.adding(seconds: 600), firstFailure: Self.t0,
            lastStatus: 504, attempts: 1)
    }

    @Test func oneOwedWindowFailingNeitherAbortsTheOthersNorForgetsThoseRecovered() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        try owing([window("IPC"), window("MCAS"), window("ASC")], state: state)
        let graph = ScriptedGraph([
            .init(
                applies: { $0.contains("eq 'MCAS'") },
                answer: { url in
                    throw GraphError(
                        kind: .transient, status: 503, code: "ServiceUnavailable", message: "down", url: url)
                }),
            .init(
                applies: { $0.contains("eq 'IPC'") },
                answer: { _ in
                    GraphAnswer(
                        status: 200, page: GraphPage(items: ScriptedGraph.alerts([("i1", "IPC", 10)]), nextLink: nil))
                }),
            .init(
                applies: { $0.contains("eq 'ASC'") },
                answer: { _ in
                    GraphAnswer(
                        status: 200, page: GraphPage(items: ScriptedGraph.alerts([("a1", "ASC", 20)]), nextLink: nil))
                }),
        ])
        let publisher = RecordingPublisher()
        let c = collector(graph, state: state)
        try await c.poll(publisher: publisher)
        let cp = try #require(await c.currentCheckpoint)
        #expect(cp.pending.map(\.scope) == [.provider("MCAS")])
        #expect(cp.pending.first?.attempts == 2 && cp.pending.first?.lastStatus == 503)
        #expect(Set(await publisher.events.compactMap(\.alert).map(\.id)) == ["i1", "a1"])
        // Saved as it went: a restart owes only MCAS.
        let saved = try #require(
            EndpointCheckpoint(json: JSONParser.parse(String(contentsOfFile: state.file("cp.json"), encoding: .utf8))))
        #expect(saved.pending.map(\.scope) == [.provider("MCAS")])
    }

    @Test func aRefusedProviderFilterFallsBackToTheWholeWindowDeduplicatedAndSaysSoOnce() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        try owing([window("O'Brien's Watch")], state: state)
        let all = ScriptedGraph.alerts([("x1", "IPC", 10), ("x2", "O'Brien's Watch", 20)])
        let graph = ScriptedGraph([
            .init(
                applies: { $0.contains("vendorInformation/provider") },
                answer: { url in
                    throw GraphError(
                        kind: .badRequest, status: 400, code: "BadRequest", message: "Invalid filter clause", url: url)
                }),
            .init(
                applies: { _ in true },
                answer: { _ in GraphAnswer(status: 200, page: GraphPage(items: all, nextLink: nil)) }),
        ])
        let publisher = RecordingPublisher()
        let c = collector(graph, state: state)
        try await c.poll(publisher: publisher)
        let events = await publisher.events
        #expect(events.compactMap(\.health).filter { $0.code == "provider_filter_refused" }.count == 1)
        #expect(Set(events.compactMap(\.alert).map(\.id)) == ["x1", "x2"])
        #expect(await c.currentCheckpoint?.pending.isEmpty == true)
        // The filter was asked with the apostrophe doubled, as OData wants it.
        #expect(graph.requests.withLock { $0.contains { $0.contains("eq 'O''Brien''s Watch'") } })
    }

    @Test func a206WithNoItemsOwesTheWholeWindowEvenWhenItNamesAProvider() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        let graph = ScriptedGraph([
            .init(
                applies: { !$0.contains("vendorInformation/provider") },
                answer: { _ in
                    GraphAnswer(
                        status: 206, page: GraphPage(items: [], nextLink: nil),
                        warnings: [#"199 - "Microsoft/IPC/504/10000""#])
                })
        ])
        let c = collector(graph, state: state)
        try await c.poll(publisher: RecordingPublisher())
        // In the same poll IPC's window was collected again (its filtered query answered 200), and
        // the whole window too: that answer was again an empty 206 naming IPC, so both stay owed.
        let pending = try #require(await c.currentCheckpoint?.pending)
        #expect(pending.map(\.scope) == [.wholeEndpoint, .provider("IPC")])
        #expect(graph.requests.withLock { $0.contains { $0.contains("eq 'IPC'") } })
    }
}

@Suite struct AuditTests {
    @Test func aWindowGraphCountsMoreAlertsInIsCollectedAgainAndReported() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        let now = Timestamp.now()
        let item: JSONValue = .object([
            ("id", "v2-1"), ("title", "x"), ("lastUpdateDateTime", .string(now.adding(seconds: -1).iso8601())),
        ])
        let graph = ScriptedGraph([
            .init(
                applies: { $0.contains("$count=true") },
                answer: { _ in
                    var page = GraphPage(items: [], nextLink: nil)
                    page.count = 2  // Graph knows of one more than the window showed
                    return GraphAnswer(status: 200, page: page)
                }),
            .init(
                applies: { _ in true },
                answer: { _ in GraphAnswer(status: 200, page: GraphPage(items: [item], nextLink: nil)) }),
        ])
        var settings = EndpointCollector.Settings(
            tenant: "t", endpoint: .alertsV2, graphURL: "https://graph.test", pageSize: 100, lag: .zero,
            overlap: .seconds(60),
            lookBack: .seconds(3600), giveUpAfter: .seconds(86_400), sourceName: "graph")
        settings.audit = true
        let status = SourceStatusBoard(source: "graph")
        let c = EndpointCollector(
            settings: settings, client: graph, store: CheckpointFile(path: state.file("cp.json")),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), status: status)
        let publisher = RecordingPublisher()
        try await c.poll(publisher: publisher)
        let shortfall = await publisher.events.compactMap(\.health).filter { $0.code == "audit_shortfall" }
        #expect(shortfall.count == 1 && shortfall.first?.details["missing"] == "1")
        #expect(status.snapshot.first?.auditShortfalls == 1 && status.snapshot.first?.auditedWindows == 1)
        // Collected again in the same poll, de-duplicated (the alert is not repeated), and paid.
        #expect(graph.requests.withLock { $0.filter { !$0.contains("$count") }.count } >= 2)
        #expect(await publisher.events.compactMap(\.alert).count == 1)
        #expect(await c.currentCheckpoint?.pending.isEmpty == true)
        #expect(graph.requests.withLock { $0.allSatisfy { !$0.contains("$count") || $0.contains("$top=1") } })
    }
}

@Suite struct PublishLaneTests {
    @Test func aBackfillsPagesGoInTheBulkLaneAndAPollsInTheRegularOne() async throws {
        let state = TemporaryDirectory()
        defer { state.remove() }
        let t0 = PageProcessorTests.t0
        let served = Mutex(0)
        let graph = ScriptedGraph([
            .init(
                applies: { _ in true },
                answer: { _ in
                    let n = served.withLock {
                        $0 += 1
                        return $0
                    }
                    let item: JSONValue = .object([
                        ("id", .string("v2-\(n)")), ("title", "x"),
                        ("lastUpdateDateTime", .string(Timestamp.now().adding(seconds: -1).iso8601())),
                    ])
                    return GraphAnswer(status: 200, page: GraphPage(items: [item], nextLink: nil))
                })
        ])
        var settings = EndpointCollector.Settings(
            tenant: "t", endpoint: .alertsV2, graphURL: "https://graph.test", pageSize: 100, lag: .zero,
            overlap: .seconds(60), lookBack: .seconds(3 * 86_400), giveUpAfter: .seconds(86_400), sourceName: "graph")
        #expect(settings.lane(from: t0, to: t0.adding(seconds: 3600)) == .regular)
        #expect(settings.lane(from: t0, to: t0.adding(seconds: 3601)) == .bulk)
        settings.sliceAfter = .seconds(600)
        #expect(settings.lane(from: t0, to: t0.adding(seconds: 601)) == .bulk)
        settings.sliceAfter = nil
        #expect(settings.lane(from: t0, to: t0.adding(seconds: 3601)) == .bulk, "an hour when slicing is off")
        settings.sliceAfter = .seconds(3600)
        let c = EndpointCollector(
            settings: settings, client: graph, store: CheckpointFile(path: state.file("cp.json")),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            status: SourceStatusBoard(source: "graph"))
        let publisher = RecordingPublisher()
        try await c.poll(publisher: publisher)  // the first run: three days of look-back
        try await c.poll(publisher: publisher)  // then the minute since the last poll
        #expect(await publisher.lanes == [.bulk, .regular])
    }
}
