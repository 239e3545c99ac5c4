import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import GraphSecuritySource
import Testing

func archiveConfig(_ yaml: String) throws -> GzipArchiveSink.Configuration {
    try CollectorTestingConfig.decode(GzipArchiveSink.Configuration.self, yaml: yaml)
}

/// Every finished or unfinished archive file under `dir`, as written (by name).
func archiveFiles(_ dir: String) -> [String] {
    files(under: dir).filter { $0.hasSuffix(".gz") || $0.hasSuffix(".gz.part") }.map { "\(dir)/\($0)" }
}

/// Events read back with the real `zcat`, in file order.
func zcatEvents(_ dir: String) async throws -> [Event] {
    var events: [Event] = []
    for file in ArchiveReaderOrder.files(dir) {
        let result = try await CollectorProcess.runTool("/bin/zcat", [file])
        #expect(result.status == 0, "zcat \(file): \(result.stderr)")
        for line in result.stdout.split(separator: "\n") {
            events.append(try Event(json: JSONParser.parse(String(line))))
        }
    }
    return events
}

/// The order `archive cat` reads files in, for comparing with zcat file by file.
enum ArchiveReaderOrder {
    static func files(_ dir: String) -> [String] {
        var seen: [String] = []
        // Rebuild from verify's reports, which follow the same listing.
        for report in ArchiveReader.verify(directory: dir) { seen.append(report.path) }
        return seen
    }
}

@Suite struct GzipArchiveSinkTests {
    @Test func keepsTheSinkContract() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let configuration = try GzipArchiveSink.Configuration(directory: dir.path, path: "events.ndjson.gz")
        try await SinkConformance.check(
            makeSink: { try await GzipArchiveSink.open(configuration: configuration, logger: quiet) },
            readBack: { try await zcatEvents(dir.path) })
    }

    @Test func filesPassGzipTestAndZcatGivesBackExactlyTheEvents() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await GzipArchiveSink.open(
            configuration: try archiveConfig(
                "directory: \(dir.path)\npath: \"%Y/events.ndjson.gz\"\nmax_file_size: 100KiB\nsize_measure: uncompressed\nlevel: 9"
            ), logger: quiet)
        let events = (0..<600).map { TrickyEvents.alert($0) }
        for start in stride(from: 0, to: events.count, by: 50) {
            try await sink.write(Array(events[start..<start + 50]))
        }
        try await sink.close()
        let gz = archiveFiles(dir.path)
        #expect(gz.count > 3, "size rotation made several files: \(gz)")
        #expect(!gz.contains { $0.hasSuffix(".part") })
        for file in gz {
            let test = try await CollectorProcess.runTool("/bin/gzip", ["-t", file])
            #expect(test.status == 0, "gzip -t \(file): \(test.stderr)")
            #expect(FileManager.default.fileExists(atPath: file + ".manifest.json"))
        }
        let back = try await zcatEvents(dir.path)
        #expect(back == events)
        let reports = ArchiveReader.verify(directory: dir.path)
        #expect(reports.allSatisfy { $0.isGood }, "\(reports)")
        #expect(reports.reduce(0) { $0 + $1.events } == 600)
        // The whole NDJSON is byte-identical to what json-file would write.
        var expected = JSONWriter()
        for e in events { e.ndjsonLine(into: &expected) }
        let all = try await CollectorProcess.runTool(
            "/bin/sh", ["-c", "cat \(ArchiveReaderOrder.files(dir.path).joined(separator: " ")) | zcat"])
        #expect(Array(all.stdout.utf8) == expected.bytes)
    }

    @Test func manifestsRecordCountTimesAndChecksum() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await GzipArchiveSink.open(
            configuration: try archiveConfig("directory: \(dir.path)\npath: a.ndjson.gz"), logger: quiet)
        try await sink.write(SampleEvents.alerts(5..<10))
        try await sink.write(SampleEvents.alerts(0..<5))
        try await sink.close()
        let file = try #require(archiveFiles(dir.path).first)
        let manifest = try ArchiveManifest(json: String(contentsOfFile: file + ".manifest.json", encoding: .utf8))
        #expect(manifest.events == 10 && manifest.members == 2 && !manifest.recovered)
        #expect(
            manifest.firstEventTime == SampleEvents.alert(0).time
                && manifest.lastEventTime == SampleEvents.alert(9).time)
        let sha = try await CollectorProcess.runTool("/usr/bin/sha256sum", [file])
        #expect(sha.stdout.hasPrefix(manifest.sha256))
        // A flipped byte is found.
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let reports = ArchiveReader.verify(directory: dir.path)
        #expect(reports.count == 1 && !reports[0].isGood)
        #expect(reports[0].problems.contains { $0.contains("SHA-256") })
    }

    @Test func catSelectsATimeRangeUsingManifests() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await GzipArchiveSink.open(
            configuration: try archiveConfig("directory: \(dir.path)\npath: \"{severity}.ndjson.gz\""), logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<40))
        try await sink.close()
        let from = SampleEvents.alert(10).time!
        let to = SampleEvents.alert(19).time!
        var ids: [String] = []
        try ArchiveReader.cat(directory: dir.path, from: from, to: to) { line in
            ids.append(try Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self))).alert!.id)
        }
        #expect(Set(ids) == Set((10..<20).map { "alert-\($0)" }) && ids.count == 10)
        let cli = try await CollectorProcess.run([
            "archive", "cat", dir.path, "--from", from.iso8601(), "--to", to.iso8601(),
        ])
        #expect(cli.status == 0 && cli.stdout.split(separator: "\n").count == 10)
        let verify = try await CollectorProcess.run(["archive", "verify", dir.path])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("4 file(s), 40 event(s), 0 with problems"))
    }

    @Test func retentionByCountAndAge() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await GzipArchiveSink.open(
            configuration: try archiveConfig(
                "directory: \(dir.path)\npath: r.ndjson.gz\nmax_file_size: 1\nmax_files: 3"), logger: quiet)
        for n in 0..<7 { try await sink.write([SampleEvents.alert(n)]) }  // one file per batch
        try await sink.close()
        let kept = archiveFiles(dir.path)
        #expect(kept.count == 3)
        let keptIDs = try await zcatEvents(dir.path).map { $0.alert!.id }
        #expect(keptIDs == ["alert-4", "alert-5", "alert-6"], "\(kept)")
        #expect(files(under: dir.path).filter { $0.hasSuffix(".manifest.json") }.count == 3)

        // By age: files older than max_age go when the next file is finished.
        for file in kept {
            _ = utime(file, nil)
            var t = utimbuf(actime: 1_000_000, modtime: 1_000_000)
            _ = utime(file, &t)
        }
        let aged = try await GzipArchiveSink.open(
            configuration: try archiveConfig("directory: \(dir.path)\npath: r.ndjson.gz\nmax_age: 1d"), logger: quiet)
        try await aged.write([SampleEvents.alert(99)])
        try await aged.close()
        #expect(try await zcatEvents(dir.path).map { $0.alert!.id } == ["alert-99"])
    }

    @Test func timeRotationFinishesOldFilesOnFlush() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = try await GzipArchiveSink.open(
            configuration: try archiveConfig("directory: \(dir.path)\npath: t.ndjson.gz\nrotate_interval: 200ms"),
            logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<3))
        #expect(archiveFiles(dir.path).allSatisfy { $0.hasSuffix(".part") })
        try await Task.sleep(for: .milliseconds(300))
        try await sink.flush()
        #expect(archiveFiles(dir.path).count == 1 && !archiveFiles(dir.path)[0].hasSuffix(".part"))
        try await sink.write(SampleEvents.alerts(3..<6))
        try await sink.close()
        #expect(archiveFiles(dir.path).count == 2)
        #expect(try await zcatEvents(dir.path).count == 6)
    }

    @Test func anUnfinishedFileIsCutToItsLastMemberAndFinishedOnStart() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try archiveConfig("directory: \(dir.path)\npath: p.ndjson.gz")
        let sink = try await GzipArchiveSink.open(configuration: config, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<5))
        try await sink.write(SampleEvents.alerts(5..<9))
        // Simulate a crash in the middle of a third member: garbage after the good ones.
        let part = dir.file("p.ndjson.gz.part")
        let handle = try #require(FileHandle(forWritingAtPath: part))
        handle.seekToEndOfFile()
        handle.write(Data([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xAB, 0xCD]))
        try handle.close()
        let restarted = try await GzipArchiveSink.open(configuration: config, logger: quiet)
        #expect(await restarted.recoveredFiles.count == 1)
        try await restarted.write(SampleEvents.alerts(9..<10))
        try await restarted.close()
        try? await sink.close()
        let reports = ArchiveReader.verify(directory: dir.path).filter { !$0.path.hasSuffix(".part") }
        #expect(reports.allSatisfy { $0.isGood }, "\(reports)")
        let ids = try await zcatEvents(dir.path).map { $0.alert!.id }
        #expect(Array(ids.prefix(10)) == (0..<10).map { "alert-\($0)" })
    }

    /// kill -9 of a real collector at many moments while it archives: after each, a restart
    /// repairs the unfinished file, every file passes `gzip -t` and verification, and every
    /// event the source had checkpointed (acknowledged) is in the archive.
    @Test func killDashNineNeverLosesAcknowledgedEvents() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let configPath = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: synthetic
                count: 3000000
                batch_size: 500
                seed: 7
            sinks:
              - type: gzip-archive
                directory: archive
                path: "events.ndjson.gz"
                max_file_size: 300KiB
                level: 1
                batch: {max_events: 1000}
            """)
        let generator = AlertGenerator(seed: 7, start: .now())
        let archive = dir.file("archive")
        var acknowledged = 0
        for round in 0..<8 {
            let (process, _, _) = try CollectorProcess.start(["run", "--config", configPath, "--log-level", "error"])
            // Let it get going (the first checkpoint), then kill it at a different moment each round.
            let checkpointFile = dir.file("state/sources/synthetic/synthetic.checkpoint.json")
            for _ in 0..<400 where acknowledged == 0 && !FileManager.default.fileExists(atPath: checkpointFile) {
                try await Task.sleep(for: .milliseconds(25))
            }
            try await Task.sleep(for: .milliseconds(150 + 97 * round))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let checkpoint = try JSONParser.parse(
                String(contentsOfFile: dir.file("state/sources/synthetic/synthetic.checkpoint.json"), encoding: .utf8))
            let next = checkpoint["next"]?.intValue ?? 0
            #expect(next >= acknowledged)
            acknowledged = next
        }
        #expect(acknowledged > 0)
        // A sink started over the directory repairs and finishes what the last kill left.
        let sink = try await GzipArchiveSink.open(
            configuration: try GzipArchiveSink.Configuration(directory: archive, path: "events.ndjson.gz"),
            logger: quiet)
        try await sink.close()
        let gz = archiveFiles(archive)
        #expect(!gz.contains { $0.hasSuffix(".part") })
        for file in gz {
            let test = try await CollectorProcess.runTool("/bin/gzip", ["-t", file])
            #expect(test.status == 0, "gzip -t \(file): \(test.stderr)")
        }
        #expect(ArchiveReader.verify(directory: archive).allSatisfy { $0.isGood })
        var present = Set<String>()
        try ArchiveReader.cat(directory: archive, from: nil, to: nil) { line in
            present.insert(try Event(json: JSONParser.parse(String(decoding: line, as: UTF8.self))).alert!.id)
        }
        let missing = (0..<acknowledged).filter { !present.contains(generator.id($0)) }
        #expect(missing.isEmpty, "\(missing.count) acknowledged alerts missing, first \(Array(missing.prefix(5)))")
        print(
            "gzip archive kill -9 ×8: \(acknowledged) acknowledged alerts, \(present.count) archived, \(gz.count) files"
        )
    }
}
