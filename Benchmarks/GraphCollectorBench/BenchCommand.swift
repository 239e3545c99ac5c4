// graph-collector-bench: throughput, memory and backfill time of graph-collector, each side by side
// with its reference (the limit, or a peer doing the same work on this machine in the same run).
// Build and run in release mode; Benchmarks/README.md has the figures and the commands.
//
//   swift build -c release && .build/release/graph-collector-bench              # full run
//   .build/release/graph-collector-bench --only syslog,gzip                      # some of it
//   .build/debug/graph-collector-bench --tiny                                    # what `make test` runs

import ArgumentParser
import Foundation

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph-collector-bench",
        abstract: "Throughput, memory and backfill time of graph-collector, each beside its reference.")

    static let benchmarks = [
        "decode", "encode", "syslog", "gzip", "webhook", "backfill", "tenants", "fairness", "jetstream",
    ]

    @Flag(help: "Every benchmark once at a tiny size (make test runs this).")
    var tiny = false

    @Option(
        help: "Benchmarks to run, comma-separated: \(benchmarks.joined(separator: ", ")).",
        transform: { text in
            let names = Set(text.split(separator: ",").map(String.init))
            if let bad = names.first(where: { !benchmarks.contains($0) }) {
                throw ValidationError("unknown benchmark '\(bad)'; benchmarks: \(benchmarks.joined(separator: ", "))")
            }
            return names
        })
    var only: Set<String>?

    @Option(help: "Events through each sink (default 200000; tiny 2000).")
    var events: Int?

    @Option(help: "decode: times each 1000-alert page is decoded (default 50; tiny 1).")
    var iterations: Int?

    @Option(
        help: "Backfill sizes, comma-separated (default 100000,1000000; tiny 3000).",
        transform: { text in
            try text.split(separator: ",").map {
                guard let n = Int($0), n > 0 else { throw ValidationError("'\($0)' is not a positive number") }
                return n
            }
        })
    var backfill: [Int]?

    @Option(name: .customLong("rpm"), help: "Backfill throttle, requests per minute, collector and simulator.")
    var requestsPerMinute = 150

    @Option(help: "Backfill page latency in seconds (Graph's is near one second).")
    var latency = 1.0

    @Option(help: "tenants: how many (default 1000; tiny 50).")
    var tenants: Int?

    func validate() throws {
        for (name, value) in [("--events", events), ("--iterations", iterations), ("--rpm", requestsPerMinute)] {
            if let value, value < 1 { throw ValidationError("\(name) must be a positive number") }
        }
        guard latency >= 0 else { throw ValidationError("--latency takes seconds, e.g. 0.2") }
    }

    func runs(_ name: String) -> Bool { only?.contains(name) ?? true }

    func run() async throws {
        #if DEBUG
            say("note: a debug build; figures are only meaningful from `swift build -c release`")
        #endif
        say(
            "graph-collector-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                + ProcessInfo.processInfo.operatingSystemVersionString)
        var failures: [String] = []
        for name in Self.benchmarks where runs(name) {
            do {
                try await run(name)
            } catch {
                failures.append("\(name): \(error)")
                say("\n\(name) FAILED: \(error)")
            }
        }
        say("\n\(Self.benchmarks.filter(runs).count - failures.count) benchmarks ran, \(failures.count) failed")
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func run(_ name: String) async throws {
        let events = events ?? (tiny ? 2000 : 200_000)
        switch name {
        case "decode": try await DecodeBenchmark.run(iterations: iterations ?? (tiny ? 1 : 50))
        case "encode": try await EncodeBenchmark.run(events: events)
        case "syslog": try await SyslogBenchmark.run(events: events)
        case "gzip": try await GzipBenchmark.run(events: events)
        case "webhook": try await WebhookBenchmark.run(events: events)
        case "jetstream": try await JetStreamBenchmark.run(events: events)
        case "tenants": try await TenantsBenchmark.run(tenants: tenants ?? (tiny ? 50 : 1000))
        case "fairness":
            try await FairnessBenchmark.run(
                busy: tiny ? 2 : 10, alerts: tiny ? 3000 : 20_000, latency: tiny ? 0.02 : latency, poll: tiny ? 2 : 5)
        default:
            try await BackfillBenchmark.run(
                sizes: backfill ?? (tiny ? [3000] : [100_000, 1_000_000]),
                requestsPerMinute: tiny ? 6000 : requestsPerMinute, latency: tiny ? 0.02 : latency)
        }
    }
}
