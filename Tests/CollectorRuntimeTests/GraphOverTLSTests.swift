import CollectorCore
import CollectorTesting
import CurlTransport
import GraphSecuritySource
import TestReceivers
import Testing

/// The production network path: Graph over HTTPS, which libcurl negotiates as HTTP/2, checked
/// against a real TLS terminator (nghttpx) in front of the simulator, with a test CA.
@Suite(.serialized) struct GraphOverTLSTests {
    @Test func collectsEverythingOverHTTPSWithHTTP2AndTheConfiguredCA() async throws {
        var run = try await SimulatorRun { _ in }
        let backend = try #require(Int(run.url.split(separator: ":").last ?? ""))
        let terminator = try TLSTerminator(backendPort: backend)
        await run.simulator.advertise(terminator.url)
        run.url = terminator.url
        let (events, _) = try await run.collect(
            endpoints: "[alerts_v2, incidents]", extra: "http: {ca_file: \(terminator.caFile)}")
        for (endpoint, kind) in [(GraphEndpoint.alertsV2, SecurityAlert.Kind.alertV2), (.incidents, .incident)] {
            let got = alertKeys(events, kind)
            let expected = await run.simulator.visibleIDs(endpoint)
            #expect(got.count == expected.count && Set(got) == Set(expected), "\(endpoint): \(got.count)")
        }
        let log = terminator.accessLog()
        #expect(log.contains { $0.contains("POST /5f1c7d3e") && $0.contains("/oauth2/v2.0/token") }, "\(log)")
        #expect(log.contains { $0.contains("GET /v1.0/security/alerts_v2") }, "\(log)")
        #expect(!log.isEmpty && log.allSatisfy { $0.hasPrefix("h2 ") }, "every request over HTTP/2: \(log)")
        await run.simulator.stop()
    }

    @Test func aWrongHostNameAndAnUnknownCAAreRefused() async throws {
        let run = try await SimulatorRun { _ in }
        let backend = try #require(Int(run.url.split(separator: ":").last ?? ""))
        let terminator = try TLSTerminator(backendPort: backend)
        var trusting = HTTPClientConfiguration()
        trusting.caFile = terminator.caFile
        let client = HTTPClient(configuration: trusting)
        let path = "/v1.0/security/alerts_v2"
        let answer = try await client.send(HTTPRequest(url: terminator.url + path))
        #expect(answer.httpVersion == "HTTP/2" && answer.status == 401, "\(answer.httpVersion) \(answer.status)")
        // The certificate names localhost only: reached as 127.0.0.1, it is refused.
        await #expect {
            _ = try await client.send(HTTPRequest(url: "https://127.0.0.1:\(terminator.port)\(path)"))
        } throws: { error in
            "\(error)".contains("127.0.0.1") && "\(error)".lowercased().contains("certificate")
        }
        await client.shutdown()
        // Without the test CA (the system's CAs only), the certificate is refused.
        let system = HTTPClient()
        await #expect {
            _ = try await system.send(HTTPRequest(url: terminator.url + path))
        } throws: { error in
            "\(error)".lowercased().contains("certificate")
        }
        await system.shutdown()
        #expect(terminator.accessLog().count == 1, "refused connections sent no request")
        await run.simulator.stop()
    }
}
