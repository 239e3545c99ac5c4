import ArgumentParser
import Foundation
import Logging

/// `fault-schedules`: the seeded fault-schedule test of the Graph collection engine.
@main
struct FaultSchedulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault-schedules",
        abstract:
            "Collect from the simulator under random faults drawn per request from a seed; check every alert's "
            + "latest version arrived.",
        discussion: """
            Each seed draws, request by request: 206 naming 0-3 providers (empty pages, 206 ending the paging), 429 with \
            Retry-After in seconds or as an HTTP-date, 503, truncated bodies, revoked tokens (and short-lived ones), 403 \
            bursts, refused SkipTokens, refused provider filters (always, for one seed in three), a $top limit, alerts updated \
            during paging and versions dated late. A failing seed prints its number; `--seed N --verbose` replays it. The \
            same seed draws the same faults for the same sequence of requests.
            """)

    @Option(help: "How many seeds to run.") var seeds = 200
    @Option(help: "The first seed.") var first: UInt64 = 1
    @Option(help: "Run only this seed (a replay).") var seed: UInt64?
    @Option(help: "Seeds run at once.") var parallel = 4
    @Option(help: "Data size multiplier (1: 35-110 alerts per endpoint).") var scale = 1
    @Option(help: "Seconds a seed may take to catch up once its data stops changing.") var limit = 60
    @Flag(help: "Log what the collector does (to standard error).") var verbose = false
    @Flag(help: "Print a line for every seed, not only the failing ones.") var everySeed = false

    func run() async throws {
        let logger: Logger
        if verbose {
            var l = Logger(label: "fault-schedules", factory: { StreamLogHandler.standardError(label: $0) })
            l.logLevel = .trace
            logger = l
        } else {
            logger = Logger(label: "fault-schedules", factory: { _ in SwiftLogNoOpLogHandler() })
        }
        let list: [UInt64] = seed.map { [$0] } ?? (0..<UInt64(max(0, seeds))).map { first + $0 }
        print("fault-schedules: \(list.count) seed(s) from \(list.first ?? 0), \(parallel) at a time, scale \(scale)")
        let started = ContinuousClock.now
        var outcomes: [ScheduleRun.Outcome] = []
        var failures: [ScheduleRun.Outcome] = []
        var index = 0
        await withTaskGroup(of: ScheduleRun.Outcome.self) { group in
            func start(_ s: UInt64) {
                let run = ScheduleRun(seed: s, scale: scale, logger: logger, convergenceLimit: .seconds(limit))
                group.addTask {
                    do { return try await run.run() } catch {
                        var o = ScheduleRun.Outcome(seed: s)
                        o.stalled = "could not run: \(error)"
                        return o
                    }
                }
            }
            while index < min(parallel, list.count) {
                start(list[index])
                index += 1
            }
            for await outcome in group {
                outcomes.append(outcome)
                if everySeed || seed != nil || !outcome.passed { report(outcome) }
                if !outcome.passed { failures.append(outcome) }
                if index < list.count {
                    start(list[index])
                    index += 1
                }
            }
        }
        summarize(outcomes, failures: failures, seconds: ContinuousClock.now - started)
        if !failures.isEmpty { throw ExitCode(1) }
    }

    func report(_ o: ScheduleRun.Outcome) {
        let faults = o.faults.filter { $0.key != "none" }.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }
            .joined(separator: " ")
        let verdict = o.passed ? "PASS" : "FAIL"
        print(
            "\(verdict) seed \(o.seed): \(o.expected) alert versions, \(o.delivered) delivered, \(o.missing.count) "
                + "missing, "
                + "\(o.duplicates) duplicates; \(o.requests) requests, \(o.polls) polls (\(o.failedPolls) failed), "
                + String(format: "%.1f s", o.seconds) + "; faults: \(faults)")
        if let stalled = o.stalled { print("  stalled: \(stalled)") }
        for key in o.missing.prefix(10) { print("  missing \(key)") }
        if !o.passed { print("  replay: fault-schedules --seed \(o.seed) --verbose") }
    }

    func summarize(_ outcomes: [ScheduleRun.Outcome], failures: [ScheduleRun.Outcome], seconds: Duration) {
        let duplicates = outcomes.map(\.duplicates)
        let expected = outcomes.reduce(0) { $0 + $1.expected }
        var totals: [String: Int] = [:]
        for o in outcomes { for (k, v) in o.faults where k != "none" { totals[k, default: 0] += v } }
        print(
            "faults drawn: " + totals.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
        print(
            "alert versions checked: \(expected); duplicates per seed: min \(duplicates.min() ?? 0), "
                + "median "
                + "\(duplicates.sorted()[duplicates.count / 2 < duplicates.count ? duplicates.count / 2 : 0]), max "
                + "\(duplicates.max() ?? 0); "
                + "\(seconds.components.seconds) s")
        if !failures.isEmpty { print("failing seeds: " + failures.map { String($0.seed) }.joined(separator: ", ")) }
        print("fault-schedules: \(outcomes.count - failures.count) passed, \(failures.count) failed")
    }
}
