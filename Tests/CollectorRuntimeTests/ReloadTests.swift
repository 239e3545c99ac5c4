import CollectorCore
import CollectorTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP during collection, as logrotate sends it after moving a file away.
@Suite struct ReloadTests {
    func lines(_ path: String) -> [Substring] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    /// The collector on `config`, its log in a file (a pipe nobody reads could fill and stall it).
    func start(_ config: String, in dir: TemporaryDirectory) throws -> (Process, String) {
        let log = dir.file("collector.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CollectorProcess.executable)
        process.arguments = ["run", "--config", config, "--log-level", "info"]
        process.currentDirectoryURL = URL(fileURLWithPath: dir.path)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return (process, log)
    }

    /// Waits (without blocking the pool) until `done`, at most `seconds`.
    func wait(seconds: Int, until done: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !done() && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
    }

    @Test func sighupReopensFilesSoLogrotateNeedsNoCopytruncateAndNothingIsLostOrRepeated() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let count = 20_000  // long enough that the SIGHUP lands mid-collection on a fast machine
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: \(count), batch_size: 100}]
            sinks: [{type: json-file, directory: out, path: events.ndjson, max_file_size: null}]
            """)
        let (process, log) = try start(config, in: dir)
        defer { if process.isRunning { process.terminate() } }
        let live = dir.file("out/events.ndjson")
        let moved = dir.file("out/events.ndjson.1")
        // Like logrotate: move the file while it is written, then SIGHUP.
        try await wait(seconds: 60) { lines(live).count >= 300 }
        try #require(lines(live).count >= 300, "the collection did not start")
        try FileManager.default.moveItem(atPath: live, toPath: moved)
        kill(process.processIdentifier, SIGHUP)
        try await wait(seconds: 180) { !process.isRunning }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!process.isRunning && process.terminationStatus == 0, "\(text.suffix(2000))")
        #expect(text.contains("SIGHUP: every sink reopens its files"), "\(text.suffix(2000))")

        let after = (try? FileManager.default.attributesOfItem(atPath: live)[.size] as? Int) ?? 0
        #expect(after > 0, "a new file was created after the SIGHUP")
        // Every line whole (no torn line) and every id once, by Python's json, in its own process
        // (parsing megabytes here would hold one of the test pool's two threads).
        let check = try await CollectorProcess.runTool(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import json,sys\nids=[json.loads(l)['id'] for f in sys.argv[1:] for l in open(f)]\n"
                    + "print(len(ids), len(set(ids)))",
                moved, live,
            ])
        #expect(check.status == 0, "a line is not JSON: \(check.stderr.suffix(500))")
        #expect(check.stdout == "\(count) \(count)\n", "\(after) bytes after the SIGHUP: \(check.stdout)")
    }

    @Test func sighupWithABrokenConfigurationKeepsTheRunningOne() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // A run that does not end by itself: the refused reloads must leave it collecting.
        let running =
            "sources: [{type: synthetic, count: 100000000, batch_size: 100}]\n"
            + "sinks: [{type: json-file, directory: out, path: events.ndjson, max_file_size: null, fsync: never}]\n"
        let config = try dir.write("c.yaml", running)
        let (process, log) = try start(config, in: dir)
        defer { if process.isRunning { process.terminate() } }
        let live = dir.file("out/events.ndjson")
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        func lineCount() async throws -> Int {
            let counted = try await CollectorProcess.runTool("/usr/bin/env", ["wc", "-l", live])
            return Int(counted.stdout.split(separator: " ").first ?? "") ?? 0
        }
        try await wait(seconds: 60) { FileManager.default.fileExists(atPath: live) }
        // Valid YAML but nothing to deliver to: refused too (sources would checkpoint into nowhere).
        _ = try dir.write("c.yaml", "sources: [{type: synthetic, count: 20000, batch_size: 100}]\nsinks: []\n")
        kill(process.processIdentifier, SIGHUP)
        try await wait(seconds: 120) { logText().contains("no sinks are configured") }
        _ = try dir.write("c.yaml", "sources: [{type: synthetic, count: -1}]\nsinks: [{type: nope}]\n")
        kill(process.processIdentifier, SIGHUP)
        try await wait(seconds: 120) { logText().contains("unknown sink type 'nope'") }
        let before = try await lineCount()
        var after = before
        let deadline = ContinuousClock.now + .seconds(120)
        while after < before + 1000 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            after = try await lineCount()
        }
        kill(process.processIdentifier, SIGTERM)
        try await wait(seconds: 180) { !process.isRunning }
        let text = logText()
        #expect(!process.isRunning && process.terminationStatus == 0, "\(text.suffix(2000))")
        #expect(text.contains("the running one stays"), "\(text.suffix(2000))")
        #expect(text.contains("unknown sink type 'nope'"), "\(text.suffix(2000))")
        #expect(text.contains("no sinks are configured"), "\(text.suffix(2000))")
        #expect(after >= before + 1000, "the running configuration kept collecting: \(before) then \(after) lines")
    }

    /// SIGHUP with a changed configuration mid-collection: one sink unchanged, one changed (a new
    /// file), one removed, one added, and the source changed (restarted from its checkpoint).
    @Test func sighupAppliesAChangedConfigurationWithoutLossOrRepeats() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let count = 20_000
        func sink(_ name: String, _ file: String) -> String {
            "{type: json-file, name: \(name), directory: out, path: \(file), max_file_size: null}"
        }
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: \(count), batch_size: 100}]
            sinks: [\(sink("keep", "keep.ndjson")), \(sink("change", "change-1.ndjson")), \(sink("gone", "gone.ndjson"))]
            """)
        let (process, log) = try start(config, in: dir)
        defer { if process.isRunning { process.terminate() } }
        try await wait(seconds: 60) { lines(dir.file("out/keep.ndjson")).count >= 300 }
        _ = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: \(count), batch_size: 250}]
            sinks: [\(sink("keep", "keep.ndjson")), \(sink("change", "change-2.ndjson")), \(sink("added", "added.ndjson"))]
            """)
        kill(process.processIdentifier, SIGHUP)
        try await wait(seconds: 180) { !process.isRunning }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(!process.isRunning && process.terminationStatus == 0, "\(text.suffix(2000))")
        for message in ["sink changed", "sink added", "sink removed", "source changed"] {
            #expect(text.contains("SIGHUP: \(message)"), "\(message): \(text.suffix(3000))")
        }
        // Per file: lines, distinct ids (every line parsed by Python's json, in its own process).
        let check = try await CollectorProcess.runTool(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import json,sys,os\nfor f in sys.argv[1:]:\n ids=[json.loads(l)['id'] for l in open(f)] "
                    + "if os.path.exists(f) else []\n print(os.path.basename(f), len(ids), len(set(ids)))",
            ] + ["keep", "change-1", "change-2", "gone", "added"].map { dir.file("out/\($0).ndjson") })
        #expect(check.status == 0, "a line is not JSON: \(check.stderr.suffix(500))")
        var counts: [String: (lines: Int, ids: Int)] = [:]
        for line in check.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            counts[String(f[0])] = (Int(f[1]) ?? -1, Int(f[2]) ?? -1)
        }
        #expect(counts["keep.ndjson"]! == (count, count), "unchanged sink: \(check.stdout)")
        let before = counts["change-1.ndjson"]!
        let after = counts["change-2.ndjson"]!
        #expect(before.lines == before.ids && after.lines == after.ids, "no repeats: \(check.stdout)")
        #expect(before.lines + after.lines == count && after.lines > 0, "changed sink: \(check.stdout)")
        let gone = counts["gone.ndjson"]!
        let added = counts["added.ndjson"]!
        #expect(gone.lines == gone.ids && gone.lines >= 300 && gone.lines < count, "removed: \(check.stdout)")
        #expect(added.lines == added.ids && added.lines > 0, "added: \(check.stdout)")
        // The changed sink's two files split where the removed and the added sinks did.
        #expect(gone.lines == before.lines && added.lines == after.lines, "one cut for all: \(check.stdout)")
    }
}
