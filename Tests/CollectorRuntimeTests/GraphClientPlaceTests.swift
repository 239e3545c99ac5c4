import CollectorCore
import CurlTransport
import GraphSecuritySource
import GraphSimulator
import Logging
import Testing

/// A Graph request holds a page's place only while it goes out and after it is answered: not
/// while it waits to retry. Otherwise a few failing tenants would hold every place.
@Suite struct GraphClientPlaceTests {
    func client(_ url: String, _ c: SimulatorConfiguration) -> GraphClient {
        GraphClient.make(
            cloud: GraphCloud(loginURL: url, graphURL: url), tenant: c.tenantId, clientId: c.clientId,
            secret: c.clientSecret, http: HTTPClient(), requestsPerMinute: 1_000_000,
            retry: RetryPolicy(initialDelay: .seconds(0.4), maxDelay: .seconds(0.4)), maxAttempts: 3,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func aRetryWaitsWithoutItsPlaceAndAFailureGivesItBack() async throws {
        var c = SimulatorConfiguration()
        c.serverErrorEvery = 1
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        let budget = PageBudget(pages: 2)
        let graph = client(url, c)
        let list = Task {
            try await graph.list("\(url)/v1.0/security/alerts_v2?$top=10", holding: PagePlace(budget, .regular))
        }
        // Two waits of 0.4 s between three attempts that each take milliseconds.
        var samples: [Int] = []
        for _ in 0..<8 {
            try await Task.sleep(for: .milliseconds(100))
            samples.append(budget.taken)
        }
        await #expect(throws: GraphError.self) { try await list.value }
        #expect(samples.filter { $0 == 0 }.count >= 4, "places taken over time: \(samples)")
        #expect(budget.taken == 0)
        await simulator.stop()
    }

    @Test func anAnswerComesWithItsPlace() async throws {
        let c = SimulatorConfiguration()
        let simulator = GraphSimulator(configuration: c)
        let url = try await simulator.start()
        let budget = PageBudget(pages: 2)
        let answer = try await client(url, c).list(
            "\(url)/v1.0/security/alerts_v2?$top=10", holding: PagePlace(budget, .regular))
        #expect(answer.status == 200 && !answer.page.items.isEmpty && budget.taken == 1)
        await simulator.stop()
    }
}
