// fault-injection: proof that nothing is lost. Runs the real `graph-collector` against the Graph
// simulator (over loopback HTTP) into real sinks and receivers — NDJSON files, a gzip archive,
// a real rsyslog over TCP and a Python webhook receiver — while it breaks things: kill -9 of the
// collector, receivers that stop or answer 500, a full or read-only disk, and an API that
// throttles, fails, truncates bodies, revokes tokens and answers 206 for failing providers.
// Every case checks that every alert id the simulator shows is in every sink, counts duplicates,
// prints PASS or FAIL with the figures, and the run ends with "N passed, N failed".
//
//   swift run fault-injection                      # the full suite (100,000 alerts, 20 kills)
//   swift run fault-injection --alerts 30000 --kills 6    # what `make test` runs (TEST_FAULT_ARGS)
//   swift run fault-injection --only kill-9,webhook-500 --keep          # some cases; keep files
//
// The disk cases mount tmpfs file systems: as root directly, otherwise in a user and mount
// namespace (`unshare -rm`) the suite enters by itself.

import ArgumentParser
import CollectorTesting
import Foundation
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

@main
struct FaultInjectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fault-injection",
        abstract: "Breaks things around a real collector run and checks that no alert is lost.")

    @Option(help: "Alerts in the kill-9 case.")
    var alerts = 100_000

    @Option(help: "Alerts in the other cases.")
    var small = 20_000

    @Option(help: "kill -9 count in the kill-9 case.")
    var kills = 20

    @Option(
        help: "Cases to run, comma-separated: \(Case.allCases.map(\.rawValue).joined(separator: ", ")).",
        transform: { text in
            let names = Set(text.split(separator: ",").map(String.init))
            if let bad = names.first(where: { Case(rawValue: $0) == nil }) {
                throw ValidationError(
                    "unknown case '\(bad)'; cases: \(Case.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return names
        })
    var only: Set<String>?

    @Option(help: "The random seed (default: the current time); the run prints it, and --seed replays it.")
    var seed: UInt64?

    @Flag(help: "Keep the working directories (their paths are printed).")
    var keep = false

    /// The seed in use, fixed once.
    var seedValue: UInt64 { seed ?? Self.startSeed }
    static let startSeed = UInt64(Date().timeIntervalSince1970)

    func validate() throws {
        for (name, value) in [("--alerts", alerts), ("--small", small), ("--kills", kills)] where value < 1 {
            throw ValidationError("\(name) must be a positive number")
        }
    }

    func run() async throws {
        Self.enterNamespaceUnlessRoot()
        say(
            "fault-injection: seed \(seedValue), \(alerts) alerts and \(kills) kills in kill-9, \(small) alerts in "
                + "the other cases"
        )
        say("collector: \(CollectorProcess.executable)")
        let runner = CaseRunner(options: self)
        var passed = 0
        var failed = 0
        for c in Case.allCases where only?.contains(c.rawValue) ?? true {
            let clock = ContinuousClock()
            let started = clock.now
            var outcome: Outcome
            do {
                outcome = try await runner.run(c)
            } catch {
                outcome = Outcome()
                outcome.check(false, "the case could not run: \(error)")
            }
            let seconds = (clock.now - started).components.seconds
            say("\(outcome.passed ? "PASS" : "FAIL") \(c.rawValue) (\(seconds) s)")
            for line in outcome.lines { say(line) }
            if outcome.passed { passed += 1 } else { failed += 1 }
        }
        say("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// The tmpfs mounts of the disk cases need root; enter a user + mount namespace when we are not.
    static func enterNamespaceUnlessRoot() {
        guard getuid() != 0 && ProcessInfo.processInfo.environment["FAULT_INJECTION_NAMESPACE"] == nil else { return }
        setenv("FAULT_INJECTION_NAMESPACE", "1", 1)
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let argv =
            (["unshare", "--user", "--map-root-user", "--mount", me] + CommandLine.arguments.dropFirst()).map {
                strdup($0)
            }
            + [nil]
        execv("/usr/bin/unshare", argv)
        say(
            "note: not root and cannot enter a namespace (\(String(cString: strerror(errno)))); the disk cases will "
                + "fail"
        )
    }
}
