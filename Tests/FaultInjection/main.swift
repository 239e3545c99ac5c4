// fault-injection: proof that nothing is lost. Runs the real `graph-collector` against the Graph
// simulator (over loopback HTTP) into real sinks and receivers — NDJSON files, a gzip archive,
// a real rsyslog over TCP and a Python webhook receiver — while it breaks things: kill -9 of the
// collector, receivers that stop or answer 500, a full or read-only disk, and an API that
// throttles, fails, truncates bodies, revokes tokens and answers 206 for failing providers.
// Every case checks that every alert id the simulator shows is in every sink, counts duplicates,
// prints PASS or FAIL with the figures, and the run ends with "N passed, N failed".
//
//   swift run fault-injection                      # the full suite (100,000 alerts, 20 kills)
//   swift run fault-injection --alerts 5000 --small 2000 --kills 3      # what `make test` runs
//   swift run fault-injection --only kill-9,webhook-500 --keep          # some cases; keep files
//
// The disk cases mount tmpfs file systems: as root directly, otherwise in a user and mount
// namespace (`unshare -rm`) the suite enters by itself.

import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import TestReceivers
#if canImport(Glibc)
import Glibc
#endif

/// Output goes straight to the file descriptor, line by line, even when piped.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

/// The offset of `needle` in `length` bytes at `haystack` (memchr + memcmp; memmem is a GNU extension).
func find(_ needle: [UInt8], in haystack: UnsafeRawPointer, length: Int) -> Int? {
    guard let first = needle.first, length >= needle.count else { return nil }
    var offset = 0
    while offset <= length - needle.count {
        guard let hit = memchr(haystack + offset, Int32(first), length - needle.count + 1 - offset) else { return nil }
        let at = haystack.distance(to: UnsafeRawPointer(hit))
        if memcmp(haystack + at, needle, needle.count) == 0 { return at }
        offset = at + 1
    }
    return nil
}

// MARK: Options

struct Options {
    var alerts = 100_000
    var small = 20_000
    var kills = 20
    var only: Set<String>?
    var keep = false
    var seed: UInt64 = UInt64(Date().timeIntervalSince1970)

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
            case "--alerts": o.alerts = number(value())
            case "--small": o.small = number(value())
            case "--kills": o.kills = number(value())
            case "--only": o.only = Set(value().split(separator: ",").map(String.init))
            case "--seed": o.seed = UInt64(number(value()))
            case "--keep": o.keep = true
            case "-h", "--help":
                say("""
                    usage: fault-injection [--alerts N] [--small N] [--kills K] [--only CASE,...] [--seed S] [--keep]
                      --alerts  alerts in the kill -9 case (default 100000)
                      --small   alerts in the other cases (default 20000)
                      --kills   kill -9 count (default 20)
                      --only    cases to run: \(Case.allCases.map(\.rawValue).joined(separator: ", "))
                      --keep    keep the working directories (their paths are printed)
                    """)
                exit(0)
            default: fail("unknown option '\(arguments[i])' (see --help)")
            }
            i += 1
        }
        if let only = o.only, let bad = only.first(where: { Case(rawValue: $0) == nil }) {
            fail("unknown case '\(bad)'; cases: \(Case.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return o
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fault-injection: \(message)\n".utf8))
    exit(2)
}

enum Case: String, CaseIterable {
    case kill9 = "kill-9"
    case sigterm = "sigterm"
    case rsyslogOutage = "rsyslog-outage"
    case webhook500 = "webhook-500"
    case diskFull = "disk-full"
    case readOnlyDisk = "read-only-disk"
    case apiFaults = "api-faults"
}

/// A small deterministic generator (SplitMix64), so a failing run can be repeated with --seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// The tmpfs mounts of the disk cases need root; enter a user + mount namespace when we are not.
if getuid() != 0 && ProcessInfo.processInfo.environment["FAULT_INJECTION_NAMESPACE"] == nil {
    setenv("FAULT_INJECTION_NAMESPACE", "1", 1)
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let argv = (["unshare", "--user", "--map-root-user", "--mount", me] + CommandLine.arguments.dropFirst()).map { strdup($0) } + [nil]
    execv("/usr/bin/unshare", argv)
    say("note: not root and cannot enter a namespace (\(String(cString: strerror(errno)))); the disk cases will fail")
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
nonisolated(unsafe) var random = SeededRandom(state: options.seed)

// MARK: Processes

/// The collector, started with a clean signal mask, its output in a log file.
struct CollectorRun {
    let pid: pid_t
    let log: String

    init(config: String, log: String) throws {
        self.log = log
        pid = try RsyslogReceiver.spawn(CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"], log: log)
    }

    /// The exit status, or nil while it runs.
    func poll() -> Int32? {
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        guard r == pid else { return nil }
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    func wait(timeout: Duration) async -> Int32? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let s = poll() { return s }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    func kill9() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    var tail: String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(8).joined(separator: "\n")
    }
}

// MARK: Reading what the sinks hold

/// Alert keys (`kind/id`: v1 and v2 alerts may share an id) found in NDJSON bytes (json-file
/// lines, webhook receiver lines): the first `"kind":` and `"id":` values of every alert line.
func alertIDs(ndjson bytes: [UInt8], into ids: inout [String]) {
    let kindKeys: [[UInt8]] = [Array("\"kind\":\"".utf8), Array("\"kind\": \"".utf8)]
    let idKeys: [[UInt8]] = [Array("\"id\":\"".utf8), Array("\"id\": \"".utf8)]
    let alertMarks: [[UInt8]] = [Array("\"event_type\":\"alert\"".utf8), Array("\"event_type\": \"alert\"".utf8)]
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let rest = raw.count - offset
            let newline = memchr(base + offset, 0x0A, rest)
            let lineLength = newline.map { base.distance(to: UnsafeRawPointer($0)) - offset } ?? rest
            let line = base + offset
            let isAlert = alertMarks.contains { mark in find(mark, in: line, length: lineLength) != nil }
            func value(_ keys: [[UInt8]]) -> String? {
                for key in keys {
                    guard let found = find(key, in: line, length: lineLength) else { continue }
                    let start = found + key.count
                    var end = start
                    while end < lineLength && line.load(fromByteOffset: end, as: UInt8.self) != 0x22 { end += 1 }
                    return String(decoding: UnsafeRawBufferPointer(start: line + start, count: end - start), as: UTF8.self)
                }
                return nil
            }
            if isAlert, let id = value(idKeys) { ids.append("\(value(kindKeys) ?? "?")/\(id)") }
            offset += lineLength + 1
        }
    }
}

func files(under directory: String, suffix: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
    return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(suffix) }.sorted().map { "\(directory)/\($0)" }
}

func read(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { Array($0) } ?? [] }

func jsonFileIDs(_ directory: String) -> [String] {
    var ids: [String] = []
    for file in files(under: directory, suffix: ".ndjson") { alertIDs(ndjson: read(file), into: &ids) }
    return ids
}

func archiveIDs(_ directory: String) throws -> [String] {
    var ids: [String] = []
    for file in files(under: directory, suffix: ".gz") { alertIDs(ndjson: try GzipDecoder.decompress(read(file)), into: &ids) }
    return ids
}

/// Alert keys in rsyslog's output: the LEEF `alertId` attribute of every message (the cases
/// that use rsyslog collect alerts_v2 only).
func rsyslogIDs(_ receiver: RsyslogReceiver) -> [String] {
    let key = Array("alertId=".utf8)
    var ids: [String] = []
    let bytes = read(receiver.output)
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count, let found = find(key, in: base + offset, length: raw.count - offset) {
            var i = offset + found + key.count
            let start = i
            while i < raw.count {
                let c = raw[i]
                guard (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E else { break }
                i += 1
            }
            ids.append("alert_v2/" + String(decoding: raw[start..<i], as: UTF8.self))
            offset = i
        }
    }
    return ids
}

/// Waits until `count()` stops growing (a receiver still writing what it got) or reaches `target`.
func settle(target: Int, timeout: Duration = .seconds(60), _ count: () -> Int) async -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var last = -1, stableSince = clock.now
    while clock.now < deadline {
        let n = count()
        if n >= target { return n }
        if n != last { last = n; stableSince = clock.now }
        if clock.now - stableSince > .seconds(5) { return n }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return count()
}

// MARK: Cases

struct Outcome {
    var passed = true
    var lines: [String] = []

    mutating func check(_ condition: Bool, _ line: String) {
        if !condition { passed = false }
        lines.append((condition ? "  ok    " : "  FAIL  ") + line)
    }

    /// Every expected id is in the sink; nothing unexpected; duplicates counted.
    mutating func compare(sink: String, got: [String], expected: Set<String>) {
        let unique = Set(got)
        let lost = expected.subtracting(unique).count
        let unexpected = unique.subtracting(expected).count
        check(lost == 0 && unexpected == 0,
              "\(sink): \(unique.count)/\(expected.count) alerts, \(lost) lost, \(got.count - unique.count) duplicates"
                + (unexpected > 0 ? ", \(unexpected) not from the simulator" : ""))
    }
}

final class Workspace {
    let directory = TemporaryDirectory(prefix: "fault-injection")
    var mounts: [String] = []
    func path(_ name: String) -> String { directory.file(name) }

    /// A tmpfs of `size` mounted at `name`.
    func mountTmpfs(_ name: String, size: String) throws -> String {
        let target = path(name)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let r = shell("mount -t tmpfs -o size=\(size) graph-collector-fault \(target)")
        guard r.status == 0 else { throw ReceiverError("cannot mount a tmpfs at \(target): \(r.output)") }
        mounts.append(target)
        return target
    }

    func remount(_ target: String, readOnly: Bool) throws {
        let r = shell("mount -o remount,\(readOnly ? "ro" : "rw") \(target)")
        guard r.status == 0 else { throw ReceiverError("cannot remount \(target) \(readOnly ? "read-only" : "read-write"): \(r.output)") }
    }

    func cleanUp(keep: Bool) {
        for m in mounts.reversed() { _ = shell("umount -l \(m)") }
        if keep { say("  kept: \(directory.path)") } else { directory.remove() }
    }
}

let webhookSecret = "whsec_" + Data("fault-injection-signing-key-32by".utf8).base64EncodedString()

/// The collector's configuration: the Graph source on the simulator, and the given sinks.
func configuration(_ w: Workspace, simulator: GraphSimulator, url: String, endpoints: String, pageSize: Int, sinks: [String]) throws -> String {
    let c = simulator.configuration
    let text = """
        state_directory: state
        pipeline: {drain_timeout: 120s}
        sources:
          - type: graph-security
            name: graph
            login_url: \(url)
            graph_url: \(url)
            tenants:
              - {tenant_id: \(c.tenantId), client_id: \(c.clientId), client_secret: \(c.clientSecret)}
            endpoints: \(endpoints)
            page_size: {alerts: \(pageSize), alerts_v2: \(pageSize), incidents: 50}
            poll_interval: 200ms
            ingestion_lag: 0s
            look_back: 4d
            stop_when_caught_up: true
            requests_per_minute: 100000
            max_attempts: 40
            retry: {initial_delay: 50ms, max_delay: 1s}
        sinks:
        \(sinks.map { "  - " + $0 }.joined(separator: "\n"))
        """
    return try w.directory.write("collector.yaml", text)
}

enum Sinks {
    static let retry = "retry: {initial_delay: 100ms, max_delay: 1s}, spool_max_size: 2GiB"
    static func files(_ directory: String) -> String { "{type: json-file, name: files, directory: \(directory), \(retry)}" }
    static func archive(_ directory: String) -> String { "{type: gzip-archive, name: archive, directory: \(directory), \(retry)}" }
    static func syslog(_ r: RsyslogReceiver) -> String {
        "{type: syslog, name: siem, transport: tcp, framing: octet-counting, targets: [\"127.0.0.1:\(r.tcpPort)\"], connect_timeout: 1s, \(retry)}"
    }
    static func webhook(_ r: WebhookReceiver) -> String {
        "{type: webhook, name: soar, url: \"\(r.url)\", signing: {secrets: [\"\(webhookSecret)\"]}, max_events_per_request: 500, \(retry)}"
    }
}

/// What the simulator shows on an endpoint, as `kind/id` keys.
func keys(_ sim: GraphSimulator, _ endpoint: GraphEndpoint) async -> Set<String> {
    let kind: SecurityAlert.Kind = switch endpoint {
    case .alertsV2: .alertV2
    case .alerts: .alertV1
    case .incidents: .incident
    }
    return Set(await sim.visibleIDs(endpoint).map { "\(kind.rawValue)/\($0)" })
}

func simulator(_ configure: (inout SimulatorConfiguration) -> Void) async throws -> (GraphSimulator, String) {
    var c = SimulatorConfiguration()
    c.alertsV2 = 0
    c.alertsV1 = 0
    c.incidents = 0
    c.history = .seconds(2 * 86_400)
    c.seed = options.seed
    configure(&c)
    let s = GraphSimulator(configuration: c)
    return (s, try await s.start())
}

/// One collector run to the end, with `fault` run alongside it (it gets the elapsed time).
func runToEnd(_ config: String, _ w: Workspace, _ outcome: inout Outcome, label: String = "collector",
              during fault: (@Sendable () async throws -> Void)? = nil) async throws {
    let run = try CollectorRun(config: config, log: w.path("\(label).log"))
    let faultTask = fault.map { f in Task { try await f() } }
    let status = await run.wait(timeout: .seconds(900))
    if status == nil { run.kill9() }
    try await faultTask?.value
    outcome.check(status == 0, "\(label) exited \(status.map(String.init) ?? "(killed after 900 s)")" + (status == 0 ? "" : ":\n" + run.tail))
}

func sinkStatistic(_ w: Workspace, sink: String, _ key: String) -> Int {
    guard let bytes = FileManager.default.contents(atPath: w.path("state/status.json")),
          let json = try? JSONParser.parse(bytes: Array(bytes)) else { return 0 }
    return json["sinks"]?.arrayValue?.first { $0["name"]?.stringValue == sink }?[key]?.intValue ?? 0
}

func run(_ c: Case) async throws -> Outcome {
    var outcome = Outcome()
    let w = Workspace()
    defer { w.cleanUp(keep: options.keep) }
    switch c {
    case .kill9:
        // Slow enough pages keep the collection long enough for every kill to land inside it:
        // at least 2 s of paging per kill (kills come 0.5-3 s after each start).
        let pages = Double((options.alerts + 999) / 1000)
        let (sim, url) = try await simulator { $0.alertsV2 = options.alerts; $0.pageDelay = .seconds(max(0.3, Double(options.kills) * 2 / pages)) }
        let rsyslog = try RsyslogReceiver()
        let webhook = try await WebhookReceiver(secrets: [webhookSecret])
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: 1000, sinks: [
            Sinks.files(w.path("out/files")), Sinks.archive(w.path("out/archive")), Sinks.syslog(rsyslog), Sinks.webhook(webhook)])
        var killed = 0, finishedEarly = false
        while killed < options.kills {
            let run = try CollectorRun(config: config, log: w.path("run-\(killed + 1).log"))
            let delay = Double.random(in: 0.5...3.0, using: &random)
            try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            if let status = run.poll() {
                outcome.check(status == 0, "run \(killed + 1) ended by itself with \(status) before its kill" + (status == 0 ? "" : ":\n" + run.tail))
                finishedEarly = true
                break
            }
            run.kill9()
            killed += 1
        }
        outcome.check(!finishedEarly, "\(killed) of \(options.kills) kills landed during the collection")
        try await runToEnd(config, w, &outcome, label: "final run")
        let expected = await keys(sim, .alertsV2)
        outcome.check(expected.count == options.alerts, "the simulator shows \(expected.count) alerts")
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let verify = try await CollectorProcess.run(["archive", "verify", w.path("out/archive")])
        outcome.check(verify.status == 0, "archive verify: exit \(verify.status) " + verify.stdout.split(separator: "\n").suffix(1).joined())
        outcome.compare(sink: "gzip-archive", got: try archiveIDs(w.path("out/archive")), expected: expected)
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog)", got: rsyslogIDs(rsyslog), expected: expected)
        _ = await settle(target: expected.count) { var ids: [String] = []; alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &ids); return Set(ids).count }
        var hooked: [String] = []
        alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &hooked)
        outcome.compare(sink: "webhook", got: hooked, expected: expected)
        await sim.stop()

    case .sigterm:
        // Graceful stops: each run waits for what it published to be accepted and checkpoints
        // it, so the restarts repeat nothing.
        let (sim, url) = try await simulator { $0.alertsV2 = options.small; $0.pageDelay = .seconds(0.25) }
        let rsyslog = try RsyslogReceiver()
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
                                       sinks: [Sinks.files(w.path("out/files")), Sinks.syslog(rsyslog)])
        for n in 1...3 {
            let run = try CollectorRun(config: config, log: w.path("run-\(n).log"))
            try await Task.sleep(for: .milliseconds(Int(Double.random(in: 1.5...3.0, using: &random) * 1000)))
            kill(run.pid, SIGTERM)
            let status = await run.wait(timeout: .seconds(60))
            outcome.check(status == 0, "run \(n) stopped by SIGTERM with \(status.map(String.init) ?? "no exit in 60 s")" + (status == 0 ? "" : ":\n" + run.tail))
        }
        try await runToEnd(config, w, &outcome, label: "final run")
        let expected = await keys(sim, .alertsV2)
        let files = jsonFileIDs(w.path("out/files"))
        outcome.compare(sink: "json-file", got: files, expected: expected)
        outcome.check(files.count == Set(files).count, "graceful stops repeated nothing: \(files.count - Set(files).count) duplicates")
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog)", got: rsyslogIDs(rsyslog), expected: expected)
        await sim.stop()

    case .rsyslogOutage:
        let (sim, url) = try await simulator { $0.alertsV2 = options.small; $0.pageDelay = .seconds(0.25) }
        let rsyslog = try RsyslogReceiver()
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
                                       sinks: [Sinks.syslog(rsyslog), Sinks.files(w.path("out/files"))])
        let receiver = UncheckedBox(rsyslog)
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            receiver.value.stop()
            try await Task.sleep(for: .seconds(5))
            try receiver.value.start()
        }
        let expected = await keys(sim, .alertsV2)
        _ = await settle(target: expected.count) { Set(rsyslogIDs(rsyslog)).count }
        outcome.compare(sink: "syslog (rsyslog stopped 5 s)", got: rsyslogIDs(rsyslog), expected: expected)
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let retried = sinkStatistic(w, sink: "siem", "retries") + sinkStatistic(w, sink: "siem", "spooled")
        outcome.check(retried > 0, "the outage was felt: \(retried) retries + spooled events")
        await sim.stop()

    case .webhook500:
        let (sim, url) = try await simulator { $0.alertsV2 = options.small; $0.pageDelay = .seconds(0.25) }
        let webhook = try await WebhookReceiver(secrets: [webhookSecret])
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
                                       sinks: [Sinks.webhook(webhook), Sinks.files(w.path("out/files"))])
        let failFile = webhook.failFile
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            FileManager.default.createFile(atPath: failFile, contents: Data())
            try await Task.sleep(for: .seconds(5))
            try FileManager.default.removeItem(atPath: failFile)
        }
        let expected = await keys(sim, .alertsV2)
        var hooked: [String] = []
        alertIDs(ndjson: read(webhook.directory.file("events.ndjson")), into: &hooked)
        outcome.compare(sink: "webhook (500 for 5 s)", got: hooked, expected: expected)
        outcome.compare(sink: "json-file", got: jsonFileIDs(w.path("out/files")), expected: expected)
        let failed = try webhook.attempts().filter { $0.status == 500 }.count
        outcome.check(failed > 0, "the receiver answered 500 to \(failed) requests")
        await sim.stop()

    case .diskFull:
        let (sim, url) = try await simulator { $0.alertsV2 = options.small; $0.pageDelay = .seconds(0.25) }
        let disk = try w.mountTmpfs("disk", size: "1g")
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
                                       sinks: [Sinks.files("\(disk)/files")])
        try await runToEnd(config, w, &outcome) {
            try await Task.sleep(for: .seconds(3))
            _ = shell("dd if=/dev/zero of=\(disk)/ballast bs=1M")   // until ENOSPC
            try await Task.sleep(for: .seconds(5))
            try FileManager.default.removeItem(atPath: "\(disk)/ballast")
        }
        let expected = await keys(sim, .alertsV2)
        outcome.compare(sink: "json-file (disk full for 5 s)", got: jsonFileIDs("\(disk)/files"), expected: expected)
        let torn = files(under: "\(disk)/files", suffix: ".ndjson").map { read($0) }.filter { !$0.isEmpty && $0.last != 0x0A }.count
        outcome.check(torn == 0, "\(torn) files end in a torn line")
        let retried = sinkStatistic(w, sink: "files", "retries") + sinkStatistic(w, sink: "files", "spooled")
        outcome.check(retried > 0, "the full disk was felt: \(retried) retries + spooled events")
        await sim.stop()

    case .readOnlyDisk:
        // Linux refuses to remount read-only under a file open for writing (EBUSY), as a
        // running file sink holds one; so the volume goes read-only between two runs, as after
        // an ext4 error and a reboot, and comes back while the second run is collecting.
        let (sim, url) = try await simulator { $0.alertsV2 = options.small; $0.pageDelay = .seconds(0.25) }
        let disk = try w.mountTmpfs("disk", size: "1g")
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2]", pageSize: max(50, options.small / 60),
                                       sinks: [Sinks.files("\(disk)/files")])
        let first = try CollectorRun(config: config, log: w.path("first.log"))
        try await Task.sleep(for: .seconds(2))
        kill(first.pid, SIGTERM)
        let stopped = await first.wait(timeout: .seconds(60))
        outcome.check(stopped == 0, "first run stopped by SIGTERM with \(stopped.map(String.init) ?? "no exit")")
        try w.remount(disk, readOnly: true)
        let workspace = UncheckedBox(w)
        try await runToEnd(config, w, &outcome, label: "second run") {
            try await Task.sleep(for: .seconds(4))
            try workspace.value.remount(disk, readOnly: false)
        }
        let expected = await keys(sim, .alertsV2)
        outcome.compare(sink: "json-file (read-only for 4 s)", got: jsonFileIDs("\(disk)/files"), expected: expected)
        let retried = sinkStatistic(w, sink: "files", "retries") + sinkStatistic(w, sink: "files", "spooled")
        outcome.check(retried > 0, "the read-only disk was felt: \(retried) retries + spooled events")
        await sim.stop()

    case .apiFaults:
        let (sim, url) = try await simulator { c in
            c.alertsV2 = options.small / 2
            c.alertsV1 = options.small / 4
            c.incidents = max(50, options.small / 40)
            c.failingProviders = [.init(provider: "IPC", status: 504, failures: 3, latencyMilliseconds: 10_000),
                                  .init(provider: "ASC", status: 429, failures: 2)]
            c.throttleEvery = 7
            c.serverErrorEvery = 11
            c.truncateEvery = 13
            c.revokeTokenEvery = 17
            c.rejectSkipTokenEvery = 5
            c.tokenLifetime = .seconds(3)
            c.pageDelay = .seconds(0.02)
        }
        let config = try configuration(w, simulator: sim, url: url, endpoints: "[alerts_v2, alerts, incidents]", pageSize: max(50, options.small / 100),
                                       sinks: [Sinks.files(w.path("out/files"))])
        try await runToEnd(config, w, &outcome)
        let got = jsonFileIDs(w.path("out/files"))
        var expected = Set<String>()
        for endpoint in [GraphEndpoint.alertsV2, .alerts, .incidents] { expected.formUnion(await keys(sim, endpoint)) }
        outcome.compare(sink: "json-file (206, 429, 503, truncated, 401, SkipToken, 3 s tokens)", got: got, expected: expected)
        let stats = await sim.statistics
        outcome.check(stats.partialAnswers > 0 && stats.throttled > 0 && stats.tokensIssued > 1,
                      "faults happened: \(stats.partialAnswers) partial answers, \(stats.throttled) throttled, \(stats.tokensIssued) tokens issued, \(stats.apiRequests) requests")
        // Every failing provider is diagnosed. (Not every failure the simulator counts: an
        // answer it truncated or refused is discarded by the collector, warnings and all.)
        var warnings: [String: Int] = [:]
        for file in files(under: w.path("out/files"), suffix: ".ndjson") {
            for line in String(decoding: read(file), as: UTF8.self).split(separator: "\n") where line.contains("\"event_type\":\"provider_warning\"") {
                for provider in ["IPC", "ASC"] where line.contains("\"provider\":\"\(provider)\"") { warnings[provider, default: 0] += 1 }
            }
        }
        outcome.check((warnings["IPC"] ?? 0) >= 1 && (warnings["ASC"] ?? 0) >= 1,
                      "provider_warning events: IPC \(warnings["IPC"] ?? 0) (failed 3 times), ASC \(warnings["ASC"] ?? 0) (failed twice)")
        await sim.stop()
    }
    return outcome
}

/// Hands a non-Sendable reference to a fault task that runs while the case waits.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

// MARK: Main

say("fault-injection: seed \(options.seed), \(options.alerts) alerts and \(options.kills) kills in kill-9, \(options.small) alerts in the other cases")
say("collector: \(CollectorProcess.executable)")
var passed = 0, failed = 0
for c in Case.allCases where options.only?.contains(c.rawValue) ?? true {
    let clock = ContinuousClock()
    let started = clock.now
    var outcome: Outcome
    do {
        outcome = try await run(c)
    } catch {
        outcome = Outcome()
        outcome.check(false, "the case could not run: \(error)")
    }
    let seconds = (clock.now - started).components.seconds
    say("\(outcome.passed ? "PASS" : "FAIL") \(c.rawValue) (\(seconds) s)")
    outcome.lines.forEach { say($0) }
    if outcome.passed { passed += 1 } else { failed += 1 }
}
say("\(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
