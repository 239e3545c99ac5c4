import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers

/// 9. The nats-jetstream sink publishing with acknowledgements to a real nats-server: one node
/// (replicas 1) and a 3-node cluster (replicas 3), beside the json-file sink on the same events.
/// The CPU column is the collector's alone; nats-server runs in its own processes.
enum JetStreamBenchmark {
    static func run(events: Int) async throws {
        let pool = try EventPool.make()
        let batches = EventPool.batches(pool, total: events, size: 500)
        let bytes = EventPool.ndjson(pool, total: events).count
        var rows: [Row] = []
        for nodes in [1, 3] {
            let cluster = try NatsCluster(nodes: nodes)
            try await cluster.waitUntilReady()
            let configuration = try CollectorTestingConfig.decode(
                NatsJetStreamSink.Configuration.self,
                yaml: """
                    servers: [\(cluster.urls.map { "\"\($0)\"" }.joined(separator: ", "))]
                    subject: "graph.{event_type}.{severity}"
                    stream: {name: BENCH, subjects: ["graph.>"], replicas: \(nodes)}
                    """)
            let sink = try await NatsJetStreamSink.Plugin.makeSink(
                configuration: configuration, context: benchContext("jetstream"))
            let measured = try await Measurement.of {
                for batch in batches { try await sink.write(batch) }
                try await sink.close()
            }
            let stored = try await cluster.messages(in: "BENCH")
            guard stored == events else { throw BenchError("the stream holds \(stored) of \(events) messages") }
            rows.append(
                Row(
                    name: "nats-jetstream sink, R\(nodes) (\(nodes) node\(nodes == 1 ? "" : "s")), batches of 500",
                    events: events, bytes: bytes, wall: measured.wall, cpu: measured.cpu, peakRSS: measured.peakRSS,
                    note: "every message acknowledged; nats-py counts \(stored) in the stream"))
            cluster.stop()
        }
        let directory = TemporaryDirectory(prefix: "bench-jetstream-files")
        defer { directory.remove() }
        let files = try CollectorTestingConfig.decode(
            JSONFileSink.Configuration.self, yaml: "directory: \(directory.path)\npath: events.ndjson")
        let fileSink = try await JSONFileSink.Plugin.makeSink(configuration: files, context: benchContext("files"))
        let reference = try await Measurement.of {
            for batch in batches { try await fileSink.write(batch) }
            try await fileSink.close()
        }
        rows.append(
            Row(
                name: "json-file sink on the same events (fsync per batch)", events: events, bytes: bytes,
                wall: reference.wall, cpu: reference.cpu, peakRSS: reference.peakRSS))
        printTable(
            "9. JetStream publish with acknowledgements vs json-file (\(formatted(Double(events))) events)", rows)
    }
}
