// graph-collector-bench: throughput, memory and backfill time of graph-collector, each side by side
// with its reference (the limit, or a peer doing the same work on this machine in the same run).
// Build and run in release mode; Benchmarks/README.md has the figures and the commands.
//
//   swift build -c release && .build/release/graph-collector-bench              # full run
//   .build/release/graph-collector-bench --only syslog,gzip                      # some of it
//   .build/debug/graph-collector-bench --tiny                                    # what `make test` runs

import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var tiny = false
    var only: Set<String>?
    var events: Int?
    var backfill: [Int]?
    var requestsPerMinute = 240
    var latency = 0.2
    var iterations: Int?

    static let benchmarks = ["decode", "syslog", "gzip", "webhook", "backfill"]

    static func parse(_ arguments: [String]) -> Options {
        var o = Options()
        var i = 0
        func value() -> String {
            i += 1
            guard i < arguments.count else { fail("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        func number(_ text: String) -> Int {
            guard let n = Int(text.replacingOccurrences(of: "_", with: "")), n > 0 else { fail("'\(text)' is not a positive number") }
            return n
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--tiny": o.tiny = true
            case "--only": o.only = Set(value().split(separator: ",").map(String.init))
            case "--events": o.events = number(value())
            case "--iterations": o.iterations = number(value())
            case "--backfill": o.backfill = value().split(separator: ",").map { number(String($0)) }
            case "--rpm": o.requestsPerMinute = number(value())
            case "--latency":
                guard let l = Double(value()), l >= 0 else { fail("--latency takes seconds, e.g. 0.2") }
                o.latency = l
            case "-h", "--help":
                say("""
                    usage: graph-collector-bench [--tiny] [--only LIST] [--events N] [--iterations N]
                                                 [--backfill N,N] [--rpm N] [--latency S]
                      --tiny        every benchmark once at a tiny size (make test runs this)
                      --only        \(benchmarks.joined(separator: ","))
                      --events      events through each sink (default 200000; tiny 2000)
                      --iterations  decode: times each 1000-alert page is decoded (default 50; tiny 1)
                      --backfill    backfill sizes (default 100000,1000000; tiny 3000)
                      --rpm         backfill throttle, requests per minute, collector and simulator (default 240)
                      --latency     backfill page latency in seconds (default 0.2)
                    """)
                exit(0)
            default: fail("unknown option '\(arguments[i])' (see --help)")
            }
            i += 1
        }
        if let only = o.only, let bad = only.first(where: { !benchmarks.contains($0) }) {
            fail("unknown benchmark '\(bad)'; benchmarks: \(benchmarks.joined(separator: ", "))")
        }
        if o.tiny {
            o.events = o.events ?? 2000
            o.iterations = o.iterations ?? 1
            o.backfill = o.backfill ?? [3000]
            o.requestsPerMinute = 6000
            o.latency = 0.02
        }
        return o
    }

    func runs(_ name: String) -> Bool { only?.contains(name) ?? true }
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
#if DEBUG
say("note: a debug build; figures are only meaningful from `swift build -c release`")
#endif
say("graph-collector-bench on \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.operatingSystemVersionString)")
var failures: [String] = []
for name in Options.benchmarks where options.runs(name) {
    do {
        switch name {
        case "decode": try await DecodeBenchmark.run(iterations: options.iterations ?? 50)
        case "syslog": try await SyslogBenchmark.run(events: options.events ?? 200_000)
        case "gzip": try await GzipBenchmark.run(events: options.events ?? 200_000)
        case "webhook": try await WebhookBenchmark.run(events: options.events ?? 200_000)
        default:
            try await BackfillBenchmark.run(sizes: options.backfill ?? [100_000, 1_000_000], requestsPerMinute: options.requestsPerMinute,
                                            latency: options.latency)
        }
    } catch {
        failures.append("\(name): \(error)")
        say("\n\(name) FAILED: \(error)")
    }
}
say("\n\(Options.benchmarks.filter(options.runs).count - failures.count) benchmarks ran, \(failures.count) failed")
exit(failures.isEmpty ? 0 : 1)
