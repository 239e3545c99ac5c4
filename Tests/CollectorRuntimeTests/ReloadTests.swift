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

    @Test func sighupReopensFilesSoLogrotateNeedsNoCopytruncateAndNothingIsLostOrRepeated() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let count = 20_000
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: \(count), batch_size: 100}]
            sinks: [{type: json-file, directory: out, path: events.ndjson, max_file_size: null}]
            """)
        let (process, _, stderr) = try CollectorProcess.start(
            ["run", "--config", config, "--log-level", "info"], directory: dir.path)
        let live = dir.file("out/events.ndjson")
        let moved = dir.file("out/events.ndjson.1")
        // Like logrotate: move the file while it is written, then SIGHUP.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while lines(live).count < 500 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try #require(lines(live).count >= 500, "the collection did not start")
        try FileManager.default.moveItem(atPath: live, toPath: moved)
        kill(process.processIdentifier, SIGHUP)
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }  // not blocking the pool
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log.suffix(2000))")
        #expect(log.contains("SIGHUP: sinks reopened their files"), "\(log.suffix(2000))")

        let before = lines(moved)
        let after = lines(live)
        #expect(!after.isEmpty, "a new file was created after the SIGHUP (it came too late if the run had ended)")
        var ids: [String] = []
        for line in before + after {
            let event = try JSONParser.parse(String(line))  // every line whole: no torn line
            ids.append(try #require(event["id"]?.stringValue))
        }
        #expect(ids.count == count, "\(before.count) before + \(after.count) after the SIGHUP")
        #expect(Set(ids).count == count, "no event written twice")
    }

    @Test func sighupWithABrokenConfigurationKeepsTheRunningOne() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: synthetic, count: 20000, batch_size: 100}]
            sinks: [{type: json-file, directory: out, path: events.ndjson, max_file_size: null}]
            """)
        let (process, _, stderr) = try CollectorProcess.start(
            ["run", "--config", config, "--log-level", "info"], directory: dir.path)
        let live = dir.file("out/events.ndjson")
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while lines(live).count < 500 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        _ = try dir.write("c.yaml", "sources: [{type: synthetic, count: -1}]\nsinks: [{type: nope}]\n")
        kill(process.processIdentifier, SIGHUP)
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }  // not blocking the pool
        let log = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(log.suffix(2000))")
        #expect(log.contains("the running one stays"), "\(log.suffix(2000))")
        #expect(log.contains("unknown sink type 'nope'"), "\(log.suffix(2000))")
        #expect(lines(live).count == 20_000, "the running configuration finished the collection")
    }
}
