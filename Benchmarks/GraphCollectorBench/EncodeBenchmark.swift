import CollectorCore
import EventFormats
import Foundation

/// 2a. Encoding alone: the same events turned into each format's payload in one reused buffer,
/// no header, no socket. Separates an encoder's cost from the sink's and the network's.
enum EncodeBenchmark {
    static func run(events: Int) async throws {
        let pool = try EventPool.make()
        let batches = EventPool.batches(pool, total: events, size: 500)
        let encoders: [(String, any EventEncoding)] = [
            ("LEEF 2.0", LEEFEncoder(format: LEEFFormat())),
            ("CEF:0", CEFEncoder(format: CEFFormat())),
            ("OCSF 1.3 Detection Finding", OCSFEncoder(format: OCSFFormat())),
            ("ECS 8.17", ECSEncoder(format: ECSFormat())),
            ("graph-collector JSON", JSONEventEncoder()),
        ]
        var rows: [Row] = []
        let only = ProcessInfo.processInfo.environment["BENCH_ENCODERS"]
        for (name, encoder) in encoders where only.map({ name.hasPrefix($0) }) ?? true {
            var bytes = 0
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 16)
            let measured = await Measurement.of {
                for batch in batches {
                    for i in batch.indices {
                        buffer.removeAll(keepingCapacity: true)
                        encoder.encode(batch[i], into: &buffer)
                        bytes += buffer.count
                    }
                }
            }
            rows.append(
                Row(
                    name: "encode \(name)", events: events, bytes: bytes, wall: measured.wall, cpu: measured.cpu,
                    peakRSS: measured.peakRSS, note: "\(bytes / max(events, 1)) B/event"))
        }
        printTable("2a. Encoding alone, one reused buffer (\(formatted(Double(events))) events)", rows)
    }
}
