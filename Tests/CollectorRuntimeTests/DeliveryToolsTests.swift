import CollectorCore
import CollectorRuntime
import CollectorTesting
import CurlTransport
import Foundation
import Logging
import Testing

/// Dead letters, best-effort sinks and the status file.
@Suite struct DeliveryToolsTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func rejectedBatchesGoToTheDeadLetterFileWithTheReason() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = InMemorySink()
        await sink.failNext(1, .permanent)
        let store = DeadLetterStore(path: dir.file("sinks/s/deadletter.ndjson"))
        let pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "s", sink: sink, batch: BatchPolicy(maxEvents: 5, maxDelay: .seconds(0.01)),
                    deadLetters: store)
            ], logger: logger)
        let running = Task { try await pipeline.run() }
        let first = try await pipeline.publish(SampleEvents.alerts(0..<5))
        let second = try await pipeline.publish(SampleEvents.alerts(5..<10))
        #expect(await first.delivered().rejectedBy["s"] != nil)
        #expect(await second.delivered().acceptedBy == ["s"])
        let stats = await pipeline.statistics()
        await pipeline.shutdown()
        try await running.value
        #expect(stats[0].deadLettered == 5 && stats[0].rejected == 5)
        let letters = try DeadLetterStore.read(dir.file("sinks/s/deadletter.ndjson"))
        #expect(letters.map(\.event) == SampleEvents.alerts(0..<5))
        #expect(letters.allSatisfy { $0.sink == "s" && $0.reason.contains("permanent") && $0.at != nil })
    }

    @Test func aBestEffortSinkDropsInsteadOfHoldingTheOthersBack() async throws {
        let slow = InMemorySink()
        await slow.pause()
        let main = InMemorySink()
        let pipeline = EventPipeline(
            sinks: [
                .init(name: "main", sink: main),
                .init(
                    name: "slow", sink: slow, required: false, batch: BatchPolicy(maxEvents: 10), queueCapacity: 20,
                    whenFull: .dropNewest),
            ], logger: logger)
        let running = Task { try await pipeline.run() }
        var receipts: [DeliveryReceipt] = []
        for n in stride(from: 0, to: 200, by: 10) {
            receipts.append(try await pipeline.publish(SampleEvents.alerts(n..<n + 10)))
        }
        for r in receipts { #expect(await r.delivered().isComplete) }
        let stats = await pipeline.statistics()
        #expect(stats[1].dropped >= 160, "\(stats[1])")
        #expect(await main.events.count == 200)
        await slow.resume()
        await pipeline.shutdown()
        try await running.value
    }

    @Test func dropNewestNeedsANonRequiredSink() throws {
        let yaml = "sinks:\n  - type: json-file\n    directory: out\n    when_full: drop_newest\nsources: []\n"
        #expect(throws: (any Error).self) {
            try ConfigLoader.load(text: yaml, name: "c.yaml", directory: ".", registry: .builtins())
        }
        do {
            _ = try ConfigLoader.load(text: yaml, name: "c.yaml", directory: ".", registry: .builtins())
        } catch {
            #expect("\(error)".contains("required: false"), "\(error)")
        }
    }

    @Test func deadletterListAndReplayThroughTheCommandLine() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: synthetic
                count: 10
            sinks:
              - type: json-file
                name: archive
                directory: out
                path: replayed.ndjson
            """)
        let store = DeadLetterStore(path: dir.file("state/sinks/archive/deadletter.ndjson"))
        try await store.append(SampleEvents.alerts(0..<4), sink: "archive", reason: "permanent: HTTP 400: schema")
        try await store.append([SampleEvents.providerWarning()], sink: "archive", reason: "permanent: too big")
        await store.close()

        let list = try await CollectorProcess.run(["deadletter", "list", "--config", config, "--show", "1"])
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("archive: 5 dead letter(s)"))
        #expect(list.stdout.contains("4 × permanent: HTTP 400: schema"))
        #expect(list.stdout.contains("\"id\":\"alert-0\""))

        let replay = try await CollectorProcess.run(["deadletter", "replay", "--config", config, "--sink", "archive"])
        #expect(replay.status == 0, "\(replay.stderr)")
        let lines = try String(contentsOfFile: dir.file("out/replayed.ndjson"), encoding: .utf8).split(separator: "\n")
        #expect(
            try lines.map { try Event(json: JSONParser.parse(String($0))) } == SampleEvents.alerts(0..<4) + [
                SampleEvents.providerWarning()
            ])
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/sinks/archive/deadletter.ndjson")))
        let again = try await CollectorProcess.run(["deadletter", "list", "--config", config])
        #expect(again.stdout.contains("no dead letters"))
    }

    @Test func statusShowsWhatTheSinksDid() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: synthetic
                count: 1500
            sinks:
              - type: json-file
                name: files
                directory: out
            """)
        let none = try await CollectorProcess.run(["status", "--config", config])
        #expect(none.status != 0 && none.stderr.contains("no status yet"))
        let run = try await CollectorProcess.run(["run", "--config", config, "--log-level", "error"])
        #expect(run.status == 0, "\(run.stderr)")
        let status = try await CollectorProcess.run(["status", "--config", config])
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("not running"))
        let row = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("files") })
        #expect(row.contains("1500"), "\(row)")
        let stream = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("synthetic/alerts_v2") })
        #expect(stream.contains("complete") && stream.contains("1500"), "\(stream)")
        let json = try await CollectorProcess.run(["status", "--config", config, "--json"])
        #expect(try JSONParser.parse(json.stdout)["sinks"]?.arrayValue?.first?["accepted"]?.intValue == 1500)
    }
}

@Suite struct MetricsEndpointTests {
    @Test func servesPrometheusCountersAndHealthWhileRunning() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            metrics: {listen: "127.0.0.1:0"}
            sources:
              - type: synthetic
                count: 2000000
            sinks:
              - type: json-file
                name: files
                directory: out
                fsync: never
            """)
        let (process, out, err) = try CollectorProcess.start(["run", "--config", config, "--log-level", "error"])
        let p = try #require(try await metricsPort(in: dir))
        let client = HTTPClient()
        var accepted = 0
        for _ in 0..<200 where accepted == 0 {
            let response = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(p)/metrics"))
            #expect(
                response.status == 200 && response.value("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true
            )
            let line = response.bodyText.split(separator: "\n").first {
                $0.hasPrefix("graph_collector_sink_accepted_events_total{sink=\"files\",required=\"true\"}")
            }
            accepted = Int(line?.split(separator: " ").last ?? "") ?? 0
            if accepted == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(accepted > 0)
        let metrics = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(p)/metrics")).bodyText
        let published = metrics.split(separator: "\n").first {
            $0.hasPrefix("graph_collector_source_events_published_total{source=\"synthetic\",stream=\"alerts_v2\"}")
        }
        #expect((Int(published?.split(separator: " ").last ?? "") ?? 0) > 0, "\(metrics)")
        #expect(metrics.contains("graph_collector_source_last_poll_time_seconds{source=\"synthetic\""))
        let health = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(p)/healthz"))
        let healthJSON = try JSONParser.parse(health.bodyText)
        #expect(health.status == 200 && healthJSON["status"]?.stringValue == "ok")
        let ready = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(p)/readyz"))
        #expect(ready.status == 200 && ready.bodyText == "ready\n", "\(ready.bodyText)")
        await client.shutdown()
        kill(process.processIdentifier, SIGTERM)
        let result = await CollectorProcess.finish(process, out, err)
        #expect(result.status == 0, "\(result.stderr)")
    }
}
