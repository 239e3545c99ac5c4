import CollectorCore
import CollectorTesting
import Foundation
import Logging
import Synchronization
import Testing

@testable import GraphSecuritySource

/// A page is normalized and published in parts, one page at a time per stream.
@Suite struct PagePublicationTests {
    static let t0 = PageProcessorTests.t0

    /// Records each publication's alert ids, taking `delay` over each (a sink queue's hop).
    actor SlowPublisher: EventPublisher {
        var published: [[String]] = []
        let delay: Duration
        init(delay: Duration) { self.delay = delay }

        func publish(_ events: [Event]) async throws -> DeliveryReceipt { try await publish(events, lane: .regular) }

        func publish(_ events: [Event], lane: PublishLane) async throws -> DeliveryReceipt {
            published.append(events.compactMap { $0.alert?.id })
            try await Task.sleep(for: delay)
            return .empty
        }
    }

    static func collector() -> EndpointCollector {
        let settings = EndpointCollector.Settings(
            tenant: "t", endpoint: .alertsV2, graphURL: "https://graph.test", pageSize: 1000, lag: .zero,
            overlap: .seconds(60), lookBack: .seconds(86_400), giveUpAfter: .seconds(86_400), sourceName: "graph")
        return EndpointCollector(
            settings: settings, client: ScriptedGraph([]), store: CheckpointFile(path: "/nonexistent/cp.json"),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            status: SourceStatusBoard(source: "graph"))
    }

    /// A page of `count` v2 alerts named `label`-i, i seconds after t0.
    static func page(_ label: String, count: Int) -> GraphAnswer {
        let items: [JSONValue] = (0..<count).map { i in
            .object([
                ("id", .string("\(label)-\(i)")), ("title", "x"),
                ("lastUpdateDateTime", .string(t0.adding(seconds: Double(i)).iso8601())),
            ])
        }
        return GraphAnswer(status: 200, page: GraphPage(items: items, nextLink: nil))
    }

    @Test func aPageGoesOutInPartsAndOnlyItsLastCarriesTheTimeItReaches() async throws {
        let collector = Self.collector()
        let publisher = SlowPublisher(delay: .zero)
        let previous = Self.t0.adding(seconds: -10)
        var cp = EndpointCheckpoint(watermark: previous)
        var progress = ProgressTracker()
        let page = try await collector.processAndPublish(
            Self.page("a", count: 600), query: "q", previous: previous, checkpoint: &cp, progress: &progress,
            publisher: publisher, lane: .bulk)
        #expect(await publisher.published.map(\.count) == [250, 250, 100])
        #expect(await publisher.published.flatMap { $0 } == (0..<600).map { "a-\($0)" })
        // Progress may claim the page's time only once its last part is accepted.
        #expect(progress.inFlight.map(\.newest) == [previous, previous, Self.t0.adding(seconds: 599)])
        #expect(progress.inFlight.map(\.keys.count) == [250, 250, 100])
        #expect(page.alerts == 600 && page.ids.count == 600 && page.newKeys.count == 600 && page.events.isEmpty)
        #expect(page.oldest == Self.t0 && page.newest == Self.t0.adding(seconds: 599))
        #expect(cp.recentKeys.count == 600)
    }

    /// Two slices' pages arriving together: one is published whole before the other starts, so
    /// neither body waits on the other's parts.
    @Test func twoSlicesPagesDoNotInterleave() async throws {
        let collector = Self.collector()
        let publisher = SlowPublisher(delay: .milliseconds(5))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for label in ["a", "b", "c"] {
                group.addTask {
                    var cp = EndpointCheckpoint(watermark: Self.t0)
                    var progress = ProgressTracker(keepingKeys: false)
                    _ = try await collector.processAndPublish(
                        Self.page(label, count: 700), query: "q", previous: nil, checkpoint: &cp,
                        progress: &progress, publisher: publisher, lane: .bulk)
                }
            }
            try await group.waitForAll()
        }
        let pages = await publisher.published.map { $0.first!.prefix(1) }
        #expect(pages.count == 9)
        // Each page's three parts come one after another.
        for start in stride(from: 0, to: pages.count, by: 3) {
            #expect(Set(pages[start..<start + 3]).count == 1, "\(pages)")
        }
    }

    /// A progress checkpoint settles whole pages: the parts of the newest pages stay with them.
    @Test func progressKeepsTheNewestPagesWithAllTheirParts() async throws {
        var progress = ProgressTracker()
        let t = (0..<5).map { Self.t0.adding(seconds: Double($0)) }
        progress.published(.empty, keys: ["1a"], newest: t[0], endsPage: false)
        progress.published(.empty, keys: ["1b"], newest: t[1])
        progress.published(.empty, keys: ["2a"], newest: t[1], endsPage: false)
        progress.published(.empty, keys: ["2b"], newest: t[1], endsPage: false)
        progress.published(.empty, keys: ["2c"], newest: t[2])
        progress.published(.empty, keys: ["3a"], newest: t[3])
        #expect(progress.count == 3)
        #expect(try await progress.settle(keeping: 2) == t[1])
        #expect(progress.unsettledKeys == ["2a", "2b", "2c", "3a"])
        #expect(try await progress.settle(keeping: 0) == t[3])
        #expect(progress.isEmpty)
    }

    /// An item that is not an alert, in the third part of a page, is named by its place on the page.
    @Test func aBadItemInALaterPartIsNamedByItsPlaceOnThePage() async throws {
        var items = Self.page("a", count: 600).page.items
        items[520] = RawJSON(.string("not an alert"))
        let collector = Self.collector()
        let publisher = RecordingPublisher()
        var cp = EndpointCheckpoint(watermark: Self.t0)
        var progress = ProgressTracker()
        let page = try await collector.processAndPublish(
            GraphAnswer(status: 200, page: GraphPage(items: items.map(\.value), nextLink: nil)), query: "q",
            previous: nil, checkpoint: &cp, progress: &progress, publisher: publisher, lane: .bulk)
        let health = await publisher.events.compactMap(\.health)
        #expect(health.count == 1 && health[0].message.contains("item 520 of the page"), "\(health)")
        #expect(page.alerts == 599)
    }
}
