import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers
import Testing

func natsConfig(_ yaml: String) throws -> NatsJetStreamSink.Configuration {
    try CollectorTestingConfig.decode(NatsJetStreamSink.Configuration.self, yaml: yaml)
}

/// The nats-jetstream sink against real `nats-server` processes; the stream is read back with
/// nats-py, NATS's own Python client.
@Suite(.serialized) struct NatsJetStreamSinkTests {
    static func config(_ cluster: NatsCluster, stream: String = "ALERTS", ackTimeout: String = "5s", extra: String = "")
        throws
        -> NatsJetStreamSink.Configuration
    {
        try natsConfig(
            """
            servers: [\(cluster.urls.map { "\"\($0)\"" }.joined(separator: ", "))]
            subject: "graph.{event_type}.{severity}"
            stream: {name: \(stream), subjects: ["graph.>"], replicas: \(cluster.nodes.count)}
            ack_timeout: \(ackTimeout)
            connect_timeout: 2s
            \(extra)
            """)
    }

    @Test func storesEachEventOnceAndDropsAResendAsADuplicate() async throws {
        let cluster = try NatsCluster()
        try await cluster.waitUntilReady()
        let sink = NatsJetStreamSink(configuration: try Self.config(cluster), logger: quiet)
        try await sink.start()
        let events =
            SampleEvents.alerts(0..<1000) + [SampleEvents.providerWarning(), SampleEvents.providerWarning(status: 503)]
        for start in stride(from: 0, to: events.count, by: 250) {
            // The first batch holds one event twice: one id, one message.
            let repeated = start == 0 ? [events[7]] : []
            try await sink.write(Array(events[start..<min(start + 250, events.count)]) + repeated)
        }
        // A retried batch, as after a lost acknowledgement or a restart before the checkpoint moved.
        try await sink.write(Array(events[0..<500]))
        let stats = await sink.statistics
        #expect(stats.stored == 1002 && stats.duplicates == 500, "\(stats)")
        try await sink.close()

        let count = try await cluster.count(stream: "ALERTS")
        #expect(count.messages == 1002 && count.streamMessages == 1002, "\(count)")
        #expect(count.uniqueIDs == 1002 && count.repeatedIDs == 0 && count.withoutID == 0)
        let expected = Set(events.map { NatsJetStreamSink.messageID(for: $0, format: .json) })
        #expect(count.ids == expected)
    }

    @Test func aServerDownAtStartIsRetriedAndTheBatchArrivesOnceItIsUp() async throws {
        let cluster = try NatsCluster()
        try await cluster.waitUntilReady()
        cluster.kill(node: 0)
        let sink = NatsJetStreamSink(configuration: try Self.config(cluster, ackTimeout: "1s"), logger: quiet)
        try await sink.start()  // logged, not thrown: the pipeline retries and spools meanwhile
        let batch = SampleEvents.alerts(0..<50)
        await #expect {
            try await sink.write(batch)
        } throws: { ($0 as? SinkError)?.isRetryable == true }
        try cluster.start(node: 0)
        try await cluster.waitUntilReady()
        try await sink.write(batch)
        #expect(await sink.statistics.stored == 50)
        try await sink.close()
        #expect(try await cluster.count(stream: "ALERTS").uniqueIDs == 50)
    }

    @Test func aStreamThatTakesOtherSubjectsStopsTheStartWithTheReason() async throws {
        let cluster = try NatsCluster()
        try await cluster.waitUntilReady()
        let other = NatsJetStreamSink(
            configuration: try natsConfig(
                """
                servers: ["\(cluster.urls[0])"]
                subject: other.events
                stream: {name: ALERTS, subjects: ["other.>"]}
                """), logger: quiet)
        try await other.start()
        try await other.close()
        let sink = NatsJetStreamSink(configuration: try Self.config(cluster), logger: quiet)
        await #expect {
            try await sink.start()
        } throws: { error in
            let text = "\(error)"
            return text.contains("stream 'ALERTS'") && text.contains("[\"other.>\"]") && text.contains("[\"graph.>\"]")
        }
        try await sink.close()
    }

    @Test func tlsWithAClientCertificateAndAPasswordThatNeverReachesAnError() async throws {
        let certificates = TemporaryDirectory(prefix: "nats-tls")
        defer { certificates.remove() }
        try TestCertificates.make(in: certificates.path, serverNames: "DNS:localhost,IP:127.0.0.1")
        try TestCertificates.makeClient(in: certificates.path)
        let dir = certificates.path
        let cluster = try NatsCluster(
            settings: """
                tls { cert_file: "\(dir)/server.pem", key_file: "\(dir)/server.key", ca_file: "\(dir)/ca.pem", verify: true }
                authorization { user: collector, password: "s3cret-Pa55" }
                """, tls: true)
        try await cluster.waitUntilReady()
        func sink(password: String, caFile: String = "ca.pem") throws -> NatsJetStreamSink {
            NatsJetStreamSink(
                configuration: try Self.config(
                    cluster,
                    extra: """
                        auth: {user: collector, password: "\(password)"}
                        tls: {ca_file: "\(dir)/\(caFile)", client_certificate: "\(dir)/client.pem", client_key: "\(dir)/client.key"}
                        """), logger: quiet)
        }
        let good = try sink(password: "s3cret-Pa55")
        try await good.start()
        try await good.write(SampleEvents.alerts(0..<20))
        #expect(await good.statistics.stored == 20)
        try await good.close()

        let wrong = try sink(password: "wrong-Pa55word")
        await #expect {
            try await wrong.start()
        } throws: { error in
            let text = "\(error)"
            return text.localizedCaseInsensitiveContains("auth") && !text.contains("wrong-Pa55word")
        }
        try await wrong.close()
        // A server certificate from another CA is refused: TLS is verified.
        try FileManager.default.createDirectory(atPath: dir + "/other", withIntermediateDirectories: true)
        try TestCertificates.make(in: dir + "/other", serverNames: "DNS:localhost")
        let untrusted = try sink(password: "s3cret-Pa55", caFile: "other/ca.pem")
        await #expect {
            try await untrusted.start()
        } throws: { error in
            let text = "\(error)".lowercased()
            return text.contains("ssl") || text.contains("certificate") || text.contains("tls")
        }
        try await untrusted.close()
    }

    @Test func anEventTheServerCannotTakeIsRefusedForGoodNotRetried() async throws {
        let cluster = try NatsCluster(settings: "max_payload: 4096")
        try await cluster.waitUntilReady()
        let sink = NatsJetStreamSink(configuration: try Self.config(cluster), logger: quiet)
        try await sink.start()
        // A body that fits max_payload alone, but not with its Nats-Msg-Id header.
        var alert = SampleEvents.alert(1).alert!
        alert.raw = ["id": "alert-1", "pad": .string(String(repeating: "x", count: 100))]
        let padded = sink.messages(for: [.alert(alert)])[0].data.count
        alert.raw = ["id": "alert-1", "pad": .string(String(repeating: "x", count: 100 + 4086 - padded))]
        let body = sink.messages(for: [.alert(alert)])[0].data.count
        #expect(body <= 4096 && body > 4096 - 30, "\(body)")
        await #expect {
            try await sink.write([.alert(alert)])
        } throws: { error in
            guard case .permanent(let message, _)? = error as? SinkError else { return false }
            return message.contains("max_payload of 4096")
        }
        try await sink.write(SampleEvents.alerts(10..<20))
        #expect(await sink.statistics.stored == 10)
        try await sink.close()
    }

    @Test func aTokenAndAnNKeyAuthenticateAndWrongOnesAreRefusedWithoutTheirSecret() async throws {
        let dir = TemporaryDirectory(prefix: "nats-auth")
        defer { dir.remove() }
        func sink(_ cluster: NatsCluster, auth: String) throws -> NatsJetStreamSink {
            NatsJetStreamSink(configuration: try Self.config(cluster, extra: "auth: \(auth)"), logger: quiet)
        }
        let tokens = try NatsCluster(settings: "authorization { token: \"t0ken-S3cret\" }")
        try await tokens.waitUntilReady()
        let good = try sink(tokens, auth: "{token: t0ken-S3cret}")
        try await good.start()
        try await good.write(SampleEvents.alerts(0..<5))
        #expect(await good.statistics.stored == 5)
        try await good.close()
        let wrong = try sink(tokens, auth: "{token: wr0ng-T0ken}")
        await #expect {
            try await wrong.start()
        } throws: { "\($0)".localizedCaseInsensitiveContains("auth") && !"\($0)".contains("wr0ng-T0ken") }
        try await wrong.close()

        let seed = dir.file("user.nk")
        let user = try await NatsCluster.makeNKey(seedFile: seed)
        let nkeys = try NatsCluster(settings: "authorization { users: [ { nkey: \"\(user)\" } ] }")
        try await nkeys.waitUntilReady()
        let signed = try sink(nkeys, auth: "{nkey: \(user), nkey_seed_file: \"\(seed)\"}")
        try await signed.start()
        try await signed.write(SampleEvents.alerts(0..<5))
        #expect(await signed.statistics.stored == 5)
        try await signed.close()
        let other = dir.file("other.nk")
        let stranger = try await NatsCluster.makeNKey(seedFile: other)
        let refused = try sink(nkeys, auth: "{nkey: \(stranger), nkey_seed_file: \"\(other)\"}")
        await #expect(throws: (any Error).self) { try await refused.start() }
        try await refused.close()
    }

    @Test func aCredentialsFileSignsInAndOneOfAnAccountTheServerDoesNotKnowIsRefused() async throws {
        let dir = TemporaryDirectory(prefix: "nats-creds")
        defer { dir.remove() }
        let cluster = try NatsCluster(settings: try await NatsCluster.makeCredentials(in: dir.path))
        try await cluster.waitUntilReady()
        func sink(_ creds: String) throws -> NatsJetStreamSink {
            NatsJetStreamSink(
                configuration: try Self.config(cluster, extra: "auth: {credentials_file: \"\(dir.file(creds))\"}"),
                logger: quiet)
        }
        let signed = try sink("user.creds")
        try await signed.start()
        try await signed.write(SampleEvents.alerts(0..<5))
        #expect(await signed.statistics.stored == 5)
        try await signed.close()
        #expect(try await cluster.messagesByMonitor(in: "ALERTS") == 5)

        let stranger = try sink("stranger.creds")
        await #expect {
            try await stranger.start()
        } throws: { error in
            let seed = (try? String(contentsOfFile: dir.file("stranger.creds"), encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("SU") }
            return "\(error)".localizedCaseInsensitiveContains("auth") && seed.map { !"\(error)".contains($0) } ?? false
        }
        try await stranger.close()
    }
}
