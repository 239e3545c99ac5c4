import CollectorCore
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import Synchronization
import Testing

/// The libcurl client against a real loopback server (the simulator).
@Suite struct HTTPClientTests {
    /// A token for `url`'s Graph, asked of `via` (another name of the same server) when given.
    func token(_ client: HTTPClient, _ url: String, _ c: SimulatorConfiguration, via: String? = nil) async throws
        -> String
    {
        let body =
            "grant_type=client_credentials&client_id=\(c.clientId)&client_secret=\(c.clientSecret)&scope=\(url)/.default"
        let response = try await client.send(
            HTTPRequest(
                method: "POST", url: "\(via ?? url)/\(c.tenantId)/oauth2/v2.0/token",
                headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8)))
        #expect(response.status == 200)
        return try #require(JSONParser.parse(bytes: response.body)["access_token"]?.stringValue)
    }

    @Test func postsFormsAndReadsEveryWarningItem() async throws {
        var c = SimulatorConfiguration()
        c.failingProviders = [.init(provider: "IPC", status: 504), .init(provider: "Azure Sentinel", status: 403)]
        let sim = GraphSimulator(configuration: c)
        let url = try await sim.start()
        let client = HTTPClient()
        let bearer = try await token(client, url, c)
        let response = try await client.send(
            HTTPRequest(url: "\(url)/v1.0/security/alerts?$top=3", headers: [("Authorization", "Bearer \(bearer)")]))
        #expect(response.status == 206)
        #expect(response.value("content-type")?.hasPrefix("application/json") == true)
        let (items, malformed) = WarningHeader.parse(response.values("Warning"))
        #expect(malformed.isEmpty)
        #expect(Set(items.map(\.provider)) == ["IPC", "Azure Sentinel"])
        // The failing providers' items are missing from the page (at most $top, possibly fewer).
        let page = try #require(try JSONParser.parse(bytes: response.body)["value"]?.arrayValue)
        #expect(page.count <= 3)
        #expect(
            page.allSatisfy {
                !["IPC", "Azure Sentinel"].contains($0["vendorInformation"]?["provider"]?.stringValue ?? "")
            })
        await client.shutdown()
        await sim.stop()
    }

    @Test func refusesBodiesOverTheLimitWithAClearError() async throws {
        let c = SimulatorConfiguration()
        let sim = GraphSimulator(configuration: c)
        let url = try await sim.start()
        var settings = HTTPClientConfiguration()
        settings.maxBodySize = 2048
        let client = HTTPClient(configuration: settings)
        let bearer = try await token(HTTPClient(), url, c)
        await #expect {
            _ = try await client.send(
                HTTPRequest(
                    url: "\(url)/v1.0/security/alerts_v2?$top=50", headers: [("Authorization", "Bearer \(bearer)")]))
        } throws: { error in
            guard let e = error as? HTTPClientError, case .bodyTooLarge(let limit) = e.kind else { return false }
            return limit == 2048 && e.description.contains("larger than the limit of 2048 bytes") && !e.isRetryable
        }
        await client.shutdown()
        await sim.stop()
    }

    /// A body sent with Content-Length is read into a buffer of that size, not one grown by
    /// doubling: a page's alerts keep slices of it for as long as they are queued.
    @Test func sizesTheBodyFromContentLength() async throws {
        let c = SimulatorConfiguration()
        let sim = GraphSimulator(configuration: c)
        let url = try await sim.start()
        let client = HTTPClient()
        let bearer = try await token(client, url, c)
        for top in [150, 230] {
            let response = try await client.send(
                HTTPRequest(
                    url: "\(url)/v1.0/security/alerts_v2?$top=\(top)",
                    headers: [("Authorization", "Bearer \(bearer)"), ("Accept-Encoding", "identity")]))
            #expect(response.status == 200)
            #expect(response.value("content-length").flatMap { Int($0) } == response.body.count)
            #expect(response.body.count > 100_000 && response.body.capacity < response.body.count + 4096)
        }
        await client.shutdown()
        await sim.stop()
    }

    /// Requests sent over plain http while another is in flight leave at once: libcurl's wait
    /// for a connection that multiplexes (PIPEWAIT) held them behind the busy connection's whole
    /// response there, where no connection ever multiplexes. Each reports once when it goes out.
    /// Measured from each request's own hand-over to the engine to its report (both on clocks
    /// the test's load cannot shift by the 3 s an answer takes).
    @Test func parallelRequestsOverPlainHTTPLeaveTogetherAndReportWhenSent() async throws {
        var c = SimulatorConfiguration()
        c.pageDelay = .seconds(3)
        let sim = GraphSimulator(configuration: c)
        let url = try await sim.start()
        let client = HTTPClient()
        // The token over another name of the host: the requests below find no connection of
        // theirs open, as after a server closed an idle one.
        let bearer = try await token(client, url, c, via: url.replacingOccurrences(of: "127.0.0.1", with: "localhost"))
        let sends = SentRequests()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<4 {
                // The first is on its way (its connection busy for 3 s) when the others start.
                if n == 1 { try await Task.sleep(for: .milliseconds(200)) }
                group.addTask {
                    let handedOver = ContinuousClock.now
                    let response = try await client.send(
                        HTTPRequest(
                            url: "\(url)/v1.0/security/alerts_v2?$top=\(n + 1)",
                            headers: [("Authorization", "Bearer \(bearer)")],
                            onSend: { sends.list.withLock { $0.append((n, ContinuousClock.now)) } }))
                    #expect(response.status == 200)
                    let mine = sends.list.withLock { $0.filter { $0.request == n } }
                    #expect(mine.count == 1)
                    if let sent = mine.first?.at {
                        #expect(sent - handedOver < .milliseconds(1500), "request \(n) left \(sent - handedOver) late")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(sends.list.withLock { $0.map(\.request).sorted() } == [0, 1, 2, 3])
        await client.shutdown()
        await sim.stop()
    }

    @Test func connectionRefusedIsRetryable() async throws {
        let client = HTTPClient()
        await #expect {
            _ = try await client.send(HTTPRequest(url: "http://127.0.0.1:9/nothing"))
        } throws: { error in
            guard let e = error as? HTTPClientError else { return false }
            return e.kind == .connect && e.isRetryable && e.description.contains("127.0.0.1")
        }
        await client.shutdown()
    }

    @Test func timesOutAndCancels() async throws {
        var c = SimulatorConfiguration()
        c.pageDelay = .seconds(12)  // far longer than any bound below: finishing early proves the abort
        let sim = GraphSimulator(configuration: c)
        let url = try await sim.start()
        let bearer = try await token(HTTPClient(), url, c)
        var settings = HTTPClientConfiguration()
        settings.timeout = .milliseconds(300)
        let client = HTTPClient(configuration: settings)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await client.send(
                HTTPRequest(
                    url: "\(url)/v1.0/security/alerts_v2?$top=1", headers: [("Authorization", "Bearer \(bearer)")]))
        } throws: { ($0 as? HTTPClientError)?.kind == .timeout }
        #expect(clock.now - start < .seconds(8))

        let patient = HTTPClient()
        let task = Task {
            try await patient.send(
                HTTPRequest(
                    url: "\(url)/v1.0/security/alerts_v2?$top=1", headers: [("Authorization", "Bearer \(bearer)")]))
        }
        try await Task.sleep(for: .milliseconds(200))
        let cancelledAt = clock.now
        task.cancel()
        await #expect { _ = try await task.value } throws: { ($0 as? HTTPClientError)?.kind == .cancelled }
        #expect(clock.now - cancelledAt < .seconds(8))
        await client.shutdown()
        await patient.shutdown()
        await sim.stop()
    }
}

/// Which requests reported going out, from the engine's thread.
private final class SentRequests: Sendable {
    let list = Mutex<[(request: Int, at: ContinuousClock.Instant)]>([])
}

@Suite struct RetryAfterTests {
    @Test func parsesSecondsAndHTTPDates() {
        #expect(GraphClientTesting.retryAfter("7") == .seconds(7))
        let future = Date().addingTimeInterval(30)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let d = GraphClientTesting.retryAfter(f.string(from: future))
        #expect(d != nil && d! > .seconds(25) && d! <= .seconds(30))
        #expect(GraphClientTesting.retryAfter("soon") == nil)
    }
}
