import CollectorCore
import Foundation
import GraphSecuritySource
import Logging

/// Normalized alerts (the synthetic generator's: realistic evidence, about 5 KB of JSON each),
/// built before timing starts and reused round-robin, so a benchmark measures the sink alone.
enum EventPool {
    static func make(count: Int = 1000) throws -> [Event] {
        let generator = AlertGenerator(seed: 7, start: Timestamp.now().adding(seconds: -86_400))
        return try (0..<count).map { .alert(try GraphNormalizer.normalize(generator.alert($0), endpoint: .alertsV2)) }
    }

    /// `total` events as batches of `size`, cycling through `pool`, each with its own id (copies
    /// share the rest of their storage, so this costs little memory). Distinct events matter: the
    /// webhook sink, for one, never sends a body it has already delivered.
    static func batches(_ pool: [Event], total: Int, size: Int) -> [[Event]] {
        var out: [[Event]] = []
        var n = 0
        while n < total {
            let count = min(size, total - n)
            out.append((0..<count).map { unique(pool[(n + $0) % pool.count], n + $0) })
            n += count
        }
        return out
    }

    static func unique(_ event: Event, _ n: Int) -> Event {
        guard case .alert(var alert) = event else { return event }
        alert.id = "\(alert.id)-\(n)"
        return .alert(alert)
    }

    /// The NDJSON of the same events ``batches(_:total:size:)`` makes.
    static func ndjson(_ pool: [Event], total: Int) -> [UInt8] {
        var out: [UInt8] = []
        for n in 0..<total {
            var w = JSONWriter()
            unique(pool[n % pool.count], n).ndjsonLine(into: &w)
            out.append(contentsOf: w.bytes)
        }
        return out
    }
}

/// A context for a sink made outside a running collector.
func benchContext(_ name: String) -> SinkContext {
    SinkContext(
        name: name, logger: .init(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }),
        stateDirectory: NSTemporaryDirectory() + "bench-state-\(getpid())",
        configurationDirectory: FileManager.default.currentDirectoryPath)
}
