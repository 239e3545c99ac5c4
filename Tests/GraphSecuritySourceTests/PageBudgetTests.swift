import CollectorCore
import CollectorTesting
import GraphSecuritySource
import Logging
import Synchronization
import Testing

@Suite struct PageBudgetTests {
    @Test func placesGoToTheLongestWaiterAndACancelledWaiterTakesNone() async throws {
        let budget = PageBudget(pages: 2)
        try await budget.acquire()
        #expect(budget.tryAcquire() && !budget.tryAcquire() && budget.taken == 2)
        let order = Order()
        let first = Task {
            try await budget.acquire()
            order.list.withLock { $0.append(1) }
        }
        while budget.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        let cancelled = Task { try await budget.acquire() }
        while budget.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let third = Task {
            try await budget.acquire()
            order.list.withLock { $0.append(3) }
        }
        while budget.waiting < 3 { try await Task.sleep(for: .milliseconds(5)) }
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(budget.waiting == 2)
        budget.release()
        try await first.value
        budget.release()
        try await third.value
        #expect(order.list.withLock { $0 } == [1, 3] && budget.taken == 2)
        budget.release()
        budget.release()
        #expect(budget.taken == 0)
    }

    @Test func backfillPagesLeaveAQuarterOfThePlacesToRegularPolls() async throws {
        let budget = PageBudget(pages: 4)
        for _ in 0..<3 { try await budget.acquire(.bulk) }
        #expect(!budget.tryAcquire(.bulk))
        let bulk = Task { try await budget.acquire(.bulk) }
        while budget.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        // The bulk waiter does not hold up a regular poll behind it.
        try await budget.acquire(.regular)
        #expect(budget.taken == 4 && budget.waiting == 1)
        budget.release(.regular)
        for _ in 0..<50 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(budget.waiting == 1 && budget.taken == 3)  // still three bulk places at most
        budget.release(.bulk)
        try await bulk.value
        #expect(budget.taken == 3 && budget.waiting == 0)
    }

    @Test func aStopRefusesTheWaitersAndLaterTakersButTakesPlacesBack() async throws {
        let stop = StopRequest()
        let budget = PageBudget(pages: 2, stop: stop)
        try await budget.acquire()
        try await budget.acquire()
        let waiter = Task { try await budget.acquire() }
        while budget.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
        stop.request()
        await #expect(throws: PagesStopped.self) { try await waiter.value }
        #expect(budget.waiting == 0 && budget.taken == 2)
        budget.release()
        await #expect(throws: PagesStopped.self) { try await budget.acquire() }
        budget.release()
        #expect(budget.taken == 0)
        // A budget made after the stop was requested is closed from the start.
        let late = PageBudget(pages: 2, stop: stop)
        await #expect(throws: PagesStopped.self) { try await late.acquire() }
    }

    /// Twelve streams backfilling a day (bulk pages), a budget of four pages (three of them for
    /// bulk), and a pipeline that takes nothing: three pages are fetched and held, and the other
    /// streams wait without asking Graph. Once the pipeline takes events, every page arrives.
    @Test func streamsPastTheBudgetWaitBeforeTheyFetch() async throws {
        let state = TemporaryDirectory(prefix: "page-budget")
        defer { state.remove() }
        let budget = PageBudget(pages: 4)
        let (graph, streams) = Self.streams(12, budget: budget, stop: StopRequest(), state: state)
        let publisher = HeldPublisher()
        let polls = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in streams { group.addTask { try await stream.poll(publisher: publisher) } }
                try await group.waitForAll()
            }
        }
        // The three holders wait on the pipeline, the other nine for a place, without a request.
        let deadline = ContinuousClock.now + .seconds(120)
        while await publisher.waiting < 3 || budget.waiting < 9, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(budget.waiting == 9)
        #expect(graph.requests.withLock { $0.count } == 3)
        #expect(budget.taken == 3)
        await publisher.open()
        try await polls.value
        #expect(graph.requests.withLock { $0.count } == 12)
        #expect(Set(await publisher.events.compactMap { $0.alert?.id }).count == 12)
        #expect(budget.taken == 0)
    }
}

extension PageBudgetTests {
    /// As above, then a graceful stop: the nine waiting streams end without asking Graph, instead
    /// of each making one more request as a place frees up.
    @Test func aGracefulStopWakesTheWaitingStreamsWithoutARequest() async throws {
        let state = TemporaryDirectory(prefix: "page-budget-stop")
        defer { state.remove() }
        let stop = StopRequest()
        let budget = PageBudget(pages: 4, stop: stop)
        let (graph, streams) = Self.streams(12, budget: budget, stop: stop, state: state)
        let publisher = HeldPublisher()
        let ended = Order()  // one entry per stream that ended
        let polls = Task {
            await withTaskGroup(of: Void.self) { group in
                for stream in streams {
                    group.addTask {
                        _ = try? await stream.poll(publisher: publisher)
                        ended.list.withLock { $0.append(1) }
                    }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while await publisher.waiting < 3 || budget.waiting < 9, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(budget.waiting == 9 && graph.requests.withLock { $0.count } == 3)
        stop.request()
        while ended.list.withLock({ $0.count }) < 9, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        // The nine ended while the three holders still wait on the pipeline.
        #expect(ended.list.withLock { $0.count } == 9 && budget.waiting == 0 && budget.taken == 3)
        await publisher.open()
        await polls.value
        #expect(graph.requests.withLock { $0.count } == 3)
        #expect(await publisher.events.count == 3 && budget.taken == 0)
    }

    /// `count` streams, one tenant each, backfilling a day of legacy alerts through `budget`;
    /// Graph answers each tenant with one page of one alert.
    static func streams(_ count: Int, budget: PageBudget, stop: StopRequest, state: TemporaryDirectory) -> (
        ScriptedGraph, [EndpointCollector]
    ) {
        let graph = ScriptedGraph([
            .init(
                applies: { _ in true },
                answer: { url in
                    let tenant = url.split(separator: "/")[2]
                    return GraphAnswer(
                        status: 200,
                        page: GraphPage(items: ScriptedGraph.alerts([("\(tenant)-a", "MCAS", 10)]), nextLink: nil))
                })
        ])
        let streams = (0..<count).map { n in
            var settings = EndpointCollector.Settings(
                tenant: "t\(n)", endpoint: .alerts, graphURL: "https://graph.test/t\(n)", pageSize: 100, lag: .zero,
                overlap: .seconds(60), lookBack: .seconds(86_400), giveUpAfter: .seconds(86_400), sourceName: "graph")
            settings.sliceAfter = nil
            settings.pages = budget
            return EndpointCollector(
                settings: settings, client: graph, store: CheckpointFile(path: state.file("cp\(n).json")),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                status: SourceStatusBoard(source: "graph"), stop: stop)
        }
        return (graph, streams)
    }
}

final class Order: Sendable {
    let list = Mutex<[Int]>([])
}

/// A publisher that holds every publication until ``open()``.
actor HeldPublisher: EventPublisher {
    private(set) var events: [Event] = []
    private var held: [CheckedContinuation<Void, Never>] = []
    private var isOpen = false

    var waiting: Int { held.count }

    func publish(_ events: [Event]) async throws -> DeliveryReceipt {
        if !isOpen { await withCheckedContinuation { held.append($0) } }
        self.events += events
        return .empty
    }

    func open() {
        isOpen = true
        for h in held { h.resume() }
        held = []
    }
}
