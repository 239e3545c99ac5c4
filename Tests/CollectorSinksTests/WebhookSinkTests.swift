import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers
import Testing

func webhookConfig(_ yaml: String) throws -> WebhookSink.Configuration {
    try CollectorTestingConfig.decode(WebhookSink.Configuration.self, yaml: yaml)
}

@Suite(.serialized) struct WebhookSinkTests {
    static let secret = "whsec_" + Data("a-test-signing-key-32-bytes-long".utf8).base64EncodedString()
    static let oldSecret = "whsec_" + Data("the-previous-key".utf8).base64EncodedString()

    @Test func everyEventArrivesSignedThroughFailuresWithStableIDs() async throws {
        let receiver = try await WebhookReceiver(
            secrets: [Self.secret, Self.oldSecret], githubSecret: "gh-secret", failFirst: 5)
        let config = try webhookConfig(
            """
            url: \(receiver.url)
            max_events_per_request: 40
            max_concurrent: 3
            signing: {secrets: ["\(Self.secret)", "\(Self.oldSecret)"], github_secret: gh-secret}
            auth: {bearer: token-123}
            headers: {X-Source: graph-collector}
            """)
        let sink = WebhookSink(configuration: config, logger: quiet)
        let pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "hook", sink: sink, batch: BatchPolicy(maxEvents: 200, maxDelay: .seconds(0.05)),
                    retry: RetryPolicy(initialDelay: .seconds(0.05), maxDelay: .seconds(0.3)))
            ],
            logger: quiet)
        let running = Task { try await pipeline.run() }
        let events = (0..<1000).map { TrickyEvents.alert($0) }
        var receipts: [DeliveryReceipt] = []
        for start in stride(from: 0, to: 1000, by: 100) {
            receipts.append(try await pipeline.publish(Array(events[start..<start + 100])))
        }
        for r in receipts { #expect(await r.delivered().isComplete) }
        await pipeline.shutdown()
        try await running.value

        let arrived = try receiver.events()
        #expect(Set(arrived.map { $0.event.alert!.id }) == Set(events.map { $0.alert!.id }))
        #expect(arrived.count == events.count, "no duplicates: accepted requests are not sent again")
        #expect(
            arrived.map(\.event).sorted { $0.alert!.id < $1.alert!.id } == events.sorted { $0.alert!.id < $1.alert!.id }
        )
        let attempts = try receiver.attempts()
        #expect(attempts.allSatisfy { $0.valid }, "every signature verifies with Python's hmac")
        #expect(attempts.allSatisfy { $0.standard == true }, "and with the standardwebhooks package")
        #expect(attempts.allSatisfy { $0.auth == "Bearer token-123" })
        let failed = attempts.filter { $0.status != 200 }
        #expect(failed.count == 5 && failed.contains { $0.status == 429 } && failed.contains { $0.status == 500 })
        // Each failed request was retried with the same webhook-id, which was then accepted.
        let acceptedIDs = Set(attempts.filter { $0.status == 200 }.map(\.id))
        #expect(failed.allSatisfy { acceptedIDs.contains($0.id) })
        #expect(Set(arrived.map(\.id)) == acceptedIDs)
    }

    @Test func jsonArrayBodiesWithGzipAndBasicAuth() async throws {
        let receiver = try await WebhookReceiver(secrets: [Self.secret])
        let config = try webhookConfig(
            """
            url: \(receiver.url)
            format: json-array
            gzip: true
            signing: {secrets: ["\(Self.secret)"]}
            auth: {username: collector, password: "p@ss:word"}
            """)
        let sink = WebhookSink(configuration: config, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<30) + [SampleEvents.providerWarning()])
        try await sink.close()
        // (Python re-serializes array items, so compare identities, not number spellings.)
        func key(_ e: Event) -> String { e.eventType + ":" + (e.alert?.id ?? e.providerWarning?.provider ?? "") }
        #expect(
            try receiver.events().map { key($0.event) }
                == (SampleEvents.alerts(0..<30) + [SampleEvents.providerWarning()]).map(key))
        let attempt = try #require(try receiver.attempts().first)
        #expect(attempt.valid && attempt.auth == "Basic " + Data("collector:p@ss:word".utf8).base64EncodedString())
    }

    @Test func aRejectionIsPermanentAndSaysWhy() async throws {
        let config = try webhookConfig("url: http://127.0.0.1:1/x\nsigning: {secrets: [\"\(Self.secret)\"]}")
        let sink = WebhookSink(configuration: config, logger: quiet)
        let batch = SampleEvents.alerts(0..<3)
        let id = try #require(sink.deliveries(for: batch).first?.id)
        let receiver = try await WebhookReceiver(secrets: [Self.secret], rejectIDs: [id])
        let live = WebhookSink(
            configuration: try webhookConfig("url: \(receiver.url)\nsigning: {secrets: [\"\(Self.secret)\"]}"),
            logger: quiet)
        do {
            try await live.write(batch)
            Issue.record("a 400 was accepted")
        } catch let error as SinkError {
            #expect(!error.isRetryable)
            #expect(
                error.description.contains("HTTP 400") && error.description.contains("bad request: schema"), "\(error)")
        }
        // A receiver that is down is retryable.
        do {
            try await sink.write(batch)
            Issue.record("a refused connection was accepted")
        } catch let error as SinkError {
            #expect(error.isRetryable)
        }
        try await live.close()
        try await sink.close()
    }

    @Test func aRejectionInABatchWaitsForTheRetryableRestAndIsReportedOnce() async throws {
        let config = try webhookConfig(
            "url: http://127.0.0.1:1/x\nmax_events_per_request: 2\nmax_concurrent: 1\nsigning: {secrets: [\"\(Self.secret)\"]}"
        )
        let batch = SampleEvents.alerts(0..<6)  // three requests
        let ids = WebhookSink(configuration: config, logger: quiet).deliveries(for: batch).map(\.id)
        #expect(ids.count == 3)
        // The receiver rejects the second request and fails the first attempt of another with 500/429.
        let receiver = try await WebhookReceiver(secrets: [Self.secret], failFirst: 1, rejectIDs: [ids[1]])
        var live = config
        live.url = receiver.url
        let sink = WebhookSink(configuration: live, logger: quiet)
        var errors: [SinkError] = []
        // As the pipeline does: retry after a retryable error, stop after success or a permanent one.
        for _ in 0..<3 {
            do {
                try await sink.write(batch)
                break
            } catch let error as SinkError {
                errors.append(error)
                if !error.isRetryable { break }
            }
        }
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.first?.isRetryable == true, "the failed request is retried before anything is given up")
        #expect(errors.last?.isRetryable == false && errors.last?.description.contains("HTTP 400") == true)
        #expect(Set(try receiver.events().map(\.id)) == [ids[0], ids[2]])
        try await sink.close()
    }

    @Test func configurationErrors() throws {
        func error(_ yaml: String) -> String {
            do {
                _ = try webhookConfig(yaml)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("url: ftp://x").contains("not an http"))
        #expect(error("url: https://x.example\nretryable_status: [\"4x\"]").contains("not a status code"))
        #expect(error("url: https://x.example\nauth: {bearer: a, username: b, password: c}").contains("either bearer"))
        #expect(error("url: https://x.example\nsigning: {secrets: [\"whsec_!!!\"]}").contains("base64"))
        let c = try webhookConfig("url: https://x.example\nretryable_status: [\"5xx\", \"409\"]")
        #expect(c.retryableStatus == [500...599, 409...409])
    }
    /// The production path: HTTPS with the receiver's certificate checked against a test CA
    /// (`tls.ca_file`), requests carried on HTTP/1.1 keep-alive connections.
    @Test func overHTTPSItVerifiesTheReceiverAndKeepsConnectionsAlive() async throws {
        let receiver = try await WebhookReceiver(secrets: [Self.secret], tls: true)
        let config = try webhookConfig(
            """
            url: \(receiver.url)
            max_events_per_request: 25
            max_concurrent: 2
            signing: {secrets: ["\(Self.secret)"]}
            tls: {ca_file: \(receiver.caFile)}
            """)
        let sink = WebhookSink(configuration: config, logger: quiet)
        let events = (0..<500).map { TrickyEvents.alert($0) }
        for start in stride(from: 0, to: 500, by: 100) {
            try await sink.write(Array(events[start..<start + 100]))
        }
        try await sink.close()
        let arrived = try receiver.events()
        #expect(arrived.count == 500 && Set(arrived.map { $0.event.alert!.id }) == Set(events.map { $0.alert!.id }))
        let attempts = try receiver.attempts()
        #expect(attempts.count == 20 && attempts.allSatisfy { $0.status == 200 && $0.valid && $0.standard == true })
        let connections = Set(attempts.map(\.connection))
        #expect(connections.count <= 2, "20 requests on at most 2 keep-alive connections: \(connections)")

        // Without the CA the receiver's certificate is refused, and the error says why.
        let untrusted = WebhookSink(
            configuration: try webhookConfig("url: \(receiver.url)\nsigning: {secrets: [\"\(Self.secret)\"]}"),
            logger: quiet)
        await #expect {
            try await untrusted.write(Array(events[0..<1]))
        } throws: { error in
            "\(error)".contains("certificate")
        }
        try await untrusted.close()
        #expect(try receiver.attempts().count == 20, "nothing was sent to an unverified receiver")
    }
}
