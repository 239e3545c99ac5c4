import CollectorCore
import CollectorSinks
import CollectorTesting
import EventFormats
import Foundation
import Logging
import TestReceivers
import Testing

/// The syslog sink against a real rsyslog on loopback (installed by `make test`).
@Suite(.serialized) struct SyslogSinkTests {
    /// Splits `<PRI>1 TIMESTAMP HOSTNAME LEEF:…` (IBM's minimal RFC 5424 shape).
    func minimalHeader(_ raw: String) -> (pri: Int, time: String, host: String, payload: String)? {
        guard raw.hasPrefix("<"), let close = raw.firstIndex(of: ">") else { return nil }
        let pri = Int(raw[raw.index(after: raw.startIndex)..<close]) ?? -1
        let parts = raw[raw.index(after: close)...].split(
            separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "1" else { return nil }
        return (pri, String(parts[1]), String(parts[2]), String(parts[3]))
    }

    func expectSamePayload(
        _ parsed: LEEFParsedEvent, as event: Event, format: LEEFFormat,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let expected = format.attributes(of: event)
        #expect(parsed.attributes.map(\.key) == expected.map(\.key), sourceLocation: sourceLocation)
        #expect(parsed.attributes.map(\.value) == expected.map(\.value), sourceLocation: sourceLocation)
    }

    func send(_ events: [Event], _ config: SyslogSink.Configuration, batch: Int = 50) async throws
        -> SyslogSink.Statistics
    {
        let sink = SyslogSink(configuration: config, logger: quiet)
        for start in stride(from: 0, to: events.count, by: batch) {
            try await sink.write(Array(events[start..<min(events.count, start + batch)]))
        }
        try await sink.flush()
        let statistics = await sink.statistics
        try await sink.close()
        return statistics
    }

    @Test func udpWithFullRFC5424HeaderArrivesIntact() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            """
            transport: udp
            targets: ["127.0.0.1:\(rsyslog.udpPort)"]
            header: rfc5424
            hostname: collector01.corp.example
            app_name: graph-collector
            facility: local3
            max_message_size: 8KiB
            """)
        let events = (0..<150).map { TrickyEvents.alert($0) }
        var sent = 0
        for start in stride(from: 0, to: events.count, by: 10) {  // paced: UDP has no flow control
            _ = try await send(Array(events[start..<start + 10]), config)
            sent += 10
            try await Task.sleep(for: .milliseconds(5))
        }
        let received = try await rsyslog.received(atLeast: events.count)
        #expect(received.count == events.count)
        for (message, event) in zip(received, events) {
            #expect(message.host == "collector01.corp.example")
            #expect(message.app == "graph-collector")
            #expect(message.pri == 19 * 8 + config.header.severity(of: event))
            let payload = try #require(message.raw.range(of: "LEEF:2.0|")).lowerBound
            let parsed = try LEEFParsedEvent(parsing: String(message.raw[payload...]))
            #expect(parsed.eventID == headerText(event.alert!.title))
            expectSamePayload(parsed, as: event, format: config.leef)
        }
    }

    @Test func udpCutsLongEventsToTheDatagramLimitAndCountsThem() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig("transport: udp\ntargets: [\"127.0.0.1:\(rsyslog.udpPort)\"]\nhostname: h1")
        let events = (0..<5).map { TrickyEvents.alert($0, descriptionLength: 30_000) }
        let statistics = try await send(events, config)
        #expect(statistics.truncatedEvents == 5)
        let received = try await rsyslog.received(atLeast: 5)
        #expect(received.count == 5)
        for (message, event) in zip(received, events) {
            #expect(message.raw.utf8.count <= 2048)
            let header = try #require(minimalHeader(message.raw))
            #expect(header.host == "h1")
            let parsed = try LEEFParsedEvent(parsing: header.payload)
            #expect(parsed["alertId"] == event.alert!.id)
            #expect(parsed["truncated"] != nil)
        }
    }

    @Test func tcpWithLFFramingAndLEEF1() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            """
            transport: tcp
            targets: ["127.0.0.1:\(rsyslog.tcpPort)"]
            framing: lf
            header: rfc3164
            hostname: collector01
            leef: {version: "1.0"}
            """)
        let events = (0..<400).map { TrickyEvents.alert($0) } + [SampleEvents.providerWarning(status: 403)]
        _ = try await send(events, config)
        let received = try await rsyslog.received(atLeast: events.count)
        #expect(received.count == events.count)
        for (message, event) in zip(received, events) {
            #expect(message.host == "collector01")
            #expect(message.app == "graph-collector")
            let start = try #require(message.raw.range(of: "LEEF:1.0|")).lowerBound
            let parsed = try LEEFParsedEvent(parsing: String(message.raw[start...]))
            #expect(parsed.delimiter == 0x09)
            expectSamePayload(parsed, as: event, format: config.leef)
        }
        #expect(
            try LEEFParsedEvent(parsing: String(received.last!.raw.split(separator: " ", maxSplits: 5)[5])).eventID
                == "ProviderWarning")
    }

    @Test func tcpWithOctetCountingCarriesVeryLongEvents() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            """
            targets: ["127.0.0.1:\(rsyslog.tcpPort)"]
            framing: octet-counting
            hostname: collector01
            max_message_size: 200KiB
            """)
        let events = (0..<60).map { TrickyEvents.alert($0, descriptionLength: $0 % 10 == 0 ? 100_000 : 0) }
        let statistics = try await send(events, config, batch: 7)
        #expect(statistics.truncatedEvents == 0)
        let received = try await rsyslog.received(atLeast: events.count)
        #expect(received.count == events.count)
        for (message, event) in zip(received, events) {
            let header = try #require(minimalHeader(message.raw))
            #expect(header.host == "collector01")
            #expect(header.pri == 16 * 8 + config.header.severity(of: event))
            #expect(header.time.hasSuffix("Z") && header.time.count == 24)
            expectSamePayload(try LEEFParsedEvent(parsing: header.payload), as: event, format: config.leef)
        }
    }

    @Test func mutualTLSWithOctetCounting() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            """
            transport: tls
            targets: ["localhost:\(rsyslog.tlsPort)"]
            hostname: collector01
            tls:
              ca_file: \(rsyslog.caFile)
              client_certificate: \(rsyslog.clientCertificate)
              client_key: \(rsyslog.clientKey)
            """)
        #expect(config.framing == .octetCounting)
        let events = (0..<300).map { TrickyEvents.alert($0) }
        let statistics = try await send(events, config)
        #expect(statistics.connects == 1 && statistics.messagesSent == 300)
        let received = try await rsyslog.received(atLeast: events.count)
        #expect(received.count == events.count)
        for (message, event) in zip(received, events) {
            let header = try #require(minimalHeader(message.raw))
            expectSamePayload(try LEEFParsedEvent(parsing: header.payload), as: event, format: config.leef)
        }
    }

    @Test func tlsRefusesAReceiverWhoseCertificateNamesAnotherHost() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            """
            transport: tls
            targets: ["127.0.0.1:\(rsyslog.tlsPort)"]
            tls: {ca_file: \(rsyslog.caFile), client_certificate: \(rsyslog.clientCertificate), client_key: \(rsyslog.clientKey), server_name: siem.example.org}
            """)
        let sink = SyslogSink(configuration: config, logger: quiet)
        do {
            try await sink.write([SampleEvents.alert(1)])
            Issue.record("a certificate for another name was accepted")
        } catch let error as SinkError {
            #expect(error.isRetryable)
            #expect(error.description.contains("siem.example.org"), "\(error)")
        }
        try await sink.close()
        #expect(try rsyslog.read().isEmpty)
    }

    @Test func failsOverToTheNextTargetWhenThePrimaryIsDown() async throws {
        let rsyslog = try RsyslogReceiver()
        let dead = try RsyslogReceiver.freePort(udp: false)
        let config = try syslogConfig(
            "targets: [\"127.0.0.1:\(dead)\", \"127.0.0.1:\(rsyslog.tcpPort)\"]\nconnect_timeout: 2s")
        let statistics = try await send(SampleEvents.alerts(0..<20), config)
        #expect(statistics.connects == 1)
        #expect(try await rsyslog.received(atLeast: 20).count == 20)
    }

    @Test func keepsTheSinkContractWithJSONPayloads() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            "targets: [\"127.0.0.1:\(rsyslog.tcpPort)\"]\nformat: json\nframing: octet-counting\nmax_message_size: 64KiB"
        )
        try await SinkConformance.check(
            makeSink: { SyslogSink(configuration: config, logger: quiet) },
            readBack: {
                // 3 + 1 + 117 + 1 events the first time, one more after the restart.
                let messages = try await rsyslog.received(atLeast: 122, timeout: .seconds(5))
                return try messages.map { message in
                    let json = try #require(message.raw.firstIndex(of: "{"))
                    return try Event(json: JSONParser.parse(String(message.raw[json...])))
                }
            })
    }

    @Test func aReceiverRestartedMidStreamLosesNothing() async throws {
        let rsyslog = try RsyslogReceiver()
        let config = try syslogConfig(
            "targets: [\"127.0.0.1:\(rsyslog.tcpPort)\"]\nframing: octet-counting\nconnect_timeout: 1s\nresend_window: 100ms"
        )
        let sink = SyslogSink(configuration: config, logger: quiet)
        let pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "rsyslog", sink: sink,
                    batch: BatchPolicy(maxEvents: 25, maxDelay: .seconds(0.05)),
                    retry: RetryPolicy(initialDelay: .seconds(0.05), maxDelay: .seconds(0.5)))
            ],
            logger: quiet)
        let total = 3000
        let running = Task { try await pipeline.run() }
        let producer = Task {
            var receipts: [DeliveryReceipt] = []
            for start in stride(from: 0, to: total, by: 25) {  // about two seconds of traffic
                receipts.append(try await pipeline.publish((start..<start + 25).map { TrickyEvents.alert($0) }))
                try await Task.sleep(for: .milliseconds(16))
            }
            for receipt in receipts {
                let report = await receipt.delivered()
                #expect(report.isComplete, "\(report)")
            }
        }
        // Stop the receiver twice while events flow (after 600 and 1800 messages), each time for
        // longer than a retry.
        for threshold in [600, 1800] {
            while await sink.statistics.messagesSent < threshold { try await Task.sleep(for: .milliseconds(5)) }
            rsyslog.stop()
            try await Task.sleep(for: .milliseconds(700))
            try rsyslog.start()
        }
        try await producer.value
        await pipeline.shutdown()
        try await running.value
        let statistics = await sink.statistics
        // Wait for everything the sink sent, resent batches included.
        let received = try await rsyslog.received(atLeast: statistics.messagesSent + statistics.messagesResent)
        var seen: [String: Int] = [:]
        for message in received {
            let header = try #require(minimalHeader(message.raw))
            let id = try #require(try LEEFParsedEvent(parsing: header.payload)["alertId"])
            seen[id, default: 0] += 1
        }
        let missing = (0..<total).map { "tricky-\($0)" }.filter { seen[$0] == nil }
        #expect(missing.isEmpty, "\(missing.count) lost, e.g. \(missing.prefix(5))")
        let duplicates = seen.values.reduce(0) { $0 + $1 - 1 }
        #expect(statistics.connects >= 3 && statistics.connectionsLost >= 2, "\(statistics)")
        // Every duplicate comes from the resend window (or a retried batch), nothing else.
        #expect(duplicates <= statistics.messagesResent + 2 * 25, "\(duplicates) duplicates, \(statistics)")
        print(
            "receiver restarted twice: \(received.count) messages for \(total) events, \(duplicates) duplicates; "
                + "\(statistics)"
        )
    }
}

/// The durable spool end to end, with real processes: the receiver is down while the collector
/// runs (and is killed with SIGKILL once); every event the source acknowledged arrives when the
/// receiver is back, without the source collecting anything again.
@Suite(.serialized) struct SpoolFaultTests {
    @Test func eventsAcknowledgedWhileTheReceiverIsDownArriveWhenItReturns() async throws {
        let rsyslog = try RsyslogReceiver()
        rsyslog.stop()
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // On shutdown the spool is retried until drain_timeout: short while the receiver is down,
        // long enough to empty it once the receiver is back.
        func configuration(drain: String) throws -> String {
            try dir.write(
                "collector.yaml",
                """
                state_directory: state
                pipeline: {drain_timeout: \(drain)}
                sources:
                  - type: synthetic
                    count: 3000
                    batch_size: 250
                sinks:
                  - type: syslog
                    name: siem
                    targets: ["127.0.0.1:\(rsyslog.tcpPort)"]
                    framing: octet-counting
                    connect_timeout: 1s
                    queue_capacity: 500
                    spool_max_size: 64MiB
                    retry: {initial_delay: 100ms, max_delay: 300ms}
                """)
        }
        var config = try configuration(drain: "2s")
        // 1. The receiver is down: the run still finishes, every alert acknowledged via the spool.
        let first = try await CollectorProcess.run(["run", "--config", config, "--log-level", "error"])
        #expect(first.status == 0, "\(first.stderr)")
        let checkpoint = try JSONParser.parse(
            String(contentsOfFile: dir.file("state/sources/synthetic/synthetic.checkpoint.json"), encoding: .utf8))
        #expect(checkpoint["next"]?.intValue == 3000)
        let status = try await CollectorProcess.run(["status", "--config", config, "--json"])
        let siem = try #require(try JSONParser.parse(status.stdout)["sinks"]?.arrayValue?.first)
        #expect(siem["spooled"]?.intValue == 3000 && siem["undelivered"]?.intValue == 0, "\(siem)")

        // 2. Killed while it (again) finds the receiver down: the spool survives SIGKILL.
        let (process, _, _) = try CollectorProcess.start(["run", "--config", config, "--log-level", "error"])
        try await Task.sleep(for: .milliseconds(700))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        // 3. The receiver is back: the next start delivers the spool, in order.
        try rsyslog.start()
        config = try configuration(drain: "30s")
        let second = try await CollectorProcess.run(["run", "--config", config, "--log-level", "error"])
        #expect(second.status == 0, "\(second.stderr)")
        let received = try await rsyslog.received(atLeast: 3000)
        var ids: [String] = []
        for message in received {
            let start = try #require(message.raw.range(of: "LEEF:2.0|")).lowerBound
            ids.append(try #require(try LEEFParsedEvent(parsing: String(message.raw[start...]))["alertId"]))
        }
        #expect(Set(ids).count == 3000, "\(Set(ids).count) distinct of 3000")
        #expect(ids.count - Set(ids).count <= 500, "duplicates only from batches resent around the kill")
        let after = try await CollectorProcess.run(["status", "--config", config, "--json"])
        let done = try #require(try JSONParser.parse(after.stdout)["sinks"]?.arrayValue?.first)
        #expect(done["from_spool"]?.intValue ?? 0 >= 3000, "\(done)")
    }
}
