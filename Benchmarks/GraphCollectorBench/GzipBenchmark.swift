import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import TestReceivers

/// 3. The gzip-archive sink (NDJSON, level 6, one member per batch, fsynced) against `gzip -6`
/// compressing the same NDJSON: zlib itself is the limit.
enum GzipBenchmark {
    static func run(events: Int) async throws {
        let pool = try EventPool.make()
        let batches = EventPool.batches(pool, total: events, size: 500)
        let ndjson = EventPool.ndjson(pool, total: events)
        let directory = TemporaryDirectory(prefix: "bench-gzip")
        defer { directory.remove() }
        let configuration = try CollectorTestingConfig.decode(
            GzipArchiveSink.Configuration.self,
            yaml: """
                directory: \(directory.file("archive"))
                path: events.ndjson.gz
                level: 6
                """)
        let sink = try await GzipArchiveSink.Plugin.makeSink(
            configuration: configuration, context: benchContext("archive"))
        let ours = try await Measurement.of {
            for batch in batches { try await sink.write(batch) }
            try await sink.close()
        }
        let written = (try FileManager.default.contentsOfDirectory(atPath: directory.file("archive")))
            .filter { $0.hasSuffix(".gz") }
            .reduce(0) {
                $0
                    + ((try? FileManager.default.attributesOfItem(atPath: directory.file("archive/\($1)"))[.size]
                        as? Int) ?? 0)
            }
        let check = shell(
            "cat \(directory.file("archive"))/*.gz | gzip -t && cat \(directory.file("archive"))/*.gz | zcat | wc -l")
        guard check.status == 0, Int(check.output.trimmingCharacters(in: .whitespacesAndNewlines)) == events else {
            throw BenchError("the archive does not hold \(events) lines that gzip accepts: \(check.output)")
        }

        let plain = directory.file("same.ndjson")
        try Data(ndjson).write(to: URL(fileURLWithPath: plain))
        let reference = try await Measurement.of {
            let r = shell("gzip -6 -c \(plain) > \(plain).gz")
            guard r.status == 0 else { throw BenchError("gzip -6 failed: \(r.output)") }
        }
        let referenceSize = (try FileManager.default.attributesOfItem(atPath: plain + ".gz")[.size] as? Int) ?? 0
        let rows = [
            Row(
                name: "graph-collector gzip-archive sink (level 6, fsync per batch of 500)", events: events,
                bytes: ndjson.count, wall: ours.wall,
                cpu: ours.cpu, peakRSS: ours.peakRSS,
                note:
                    "\(formatted(Double(written) / 1_048_576, 1)) MiB out; "
                    + "\(formatted(100 * reference.wall / ours.wall)) % of gzip -6's speed"
            ),
            Row(
                name: "gzip -6 on the same NDJSON (the limit)", events: events, bytes: ndjson.count,
                wall: reference.wall, cpu: reference.wall,
                note: "\(formatted(Double(referenceSize) / 1_048_576, 1)) MiB out"),
        ]
        printTable(
            "3. gzip archive vs gzip -6 (\(formatted(Double(events))) events, "
                + "\(formatted(Double(ndjson.count) / 1_048_576, 1)) MiB of NDJSON)",
            rows)
    }
}
