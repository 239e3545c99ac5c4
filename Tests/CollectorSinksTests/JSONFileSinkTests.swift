import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import Logging
import Testing

let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

func lines(_ path: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

func readEvents(_ path: String) throws -> [Event] {
    try lines(path).map { try Event(json: JSONParser.parse($0)) }
}

func files(under dir: String) -> [String] {
    (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? [])
        .filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: "\(dir)/\($0)", isDirectory: &d) && !d.boolValue
        }
        .sorted()
}

func config(_ yaml: String) throws -> JSONFileSink.Configuration {
    try CollectorTestingConfig.decode(JSONFileSink.Configuration.self, yaml: yaml)
}

@Suite struct JSONFileSinkTests {
    @Test func keepsTheSinkContract() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let configuration = try JSONFileSink.Configuration(directory: dir.path, path: "out.ndjson")
        try await SinkConformance.check(
            makeSink: { try await JSONFileSink.open(configuration: configuration, logger: quiet) },
            readBack: { try readEvents(dir.file("out.ndjson")) })
    }

    @Test func templatesPathsByTimeAndEventFields() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let c = try config(
            "directory: \(dir.path)\npath: \"%Y/%m-%d/{event_type}-{severity}.ndjson\"\ntime_source: event")
        let sink = try await JSONFileSink.open(configuration: c, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<8) + [SampleEvents.providerWarning()])
        try await sink.close()
        // SampleEvents times are 2025-11-23 (1_763_900_000 s).
        #expect(
            files(under: dir.path) == [
                "2025/11-23/alert-high.ndjson", "2025/11-23/alert-informational.ndjson", "2025/11-23/alert-low.ndjson",
                "2025/11-23/alert-medium.ndjson", "2025/11-23/provider_warning-unknown.ndjson",
            ])
        #expect(try lines(dir.file("2025/11-23/alert-high.ndjson")).count == 2)
    }

    @Test func eventValuesCannotEscapeTheDirectory() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let c = try config("directory: \(dir.path)/base\npath: \"{tenant_id}/x.ndjson\"")
        let sink = try await JSONFileSink.open(configuration: c, logger: quiet)
        try await sink.write([SampleEvents.alert(1, tenant: "../../etc"), SampleEvents.alert(2, tenant: "..")])
        try await sink.close()
        #expect(files(under: dir.path) == ["base/.._.._etc/x.ndjson", "base/_/x.ndjson"])
    }

    @Test(arguments: [
        ("../x.ndjson", "contains '..'"), ("/etc/passwd", "absolute"), ("a/%Q.ndjson", "not a supported time field"),
        ("{tenant}.ndjson", "did you mean '{tenant_id}'"), ("dir/", "names a directory"),
    ])
    func rejectsBadTemplates(template: String, message: String) {
        #expect { _ = try PathTemplate(template) } throws: { "\($0)".contains(message) }
    }

    @Test func rotatesBySizeAndKeepsTheConfiguredNumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let c = try config("directory: \(dir.path)\npath: ev.ndjson\nmax_file_size: 3KiB\nmax_rotated_files: 2")
        let sink = try await JSONFileSink.open(configuration: c, logger: quiet)
        var written = 0
        for i in 0..<12 {
            try await sink.write(SampleEvents.alerts((i * 2)..<(i * 2 + 2)))
            written += 2
        }
        try await sink.close()
        let all = files(under: dir.path)
        let rotated = all.filter { $0 != "ev.ndjson" }
        #expect(all.contains("ev.ndjson"))
        #expect(rotated.count == 2, "\(all)")
        #expect(
            rotated.allSatisfy {
                $0.range(of: #"^ev\.\d{8}T\d{6}Z(-\d+)?\.ndjson$"#, options: .regularExpression) != nil
            })
        for f in all {
            let size = try FileManager.default.attributesOfItem(atPath: dir.file(f))[.size] as! Int
            #expect(size <= 3 * 1024, "\(f) is \(size) bytes")
            #expect(try readEvents(dir.file(f)).count >= 1)
        }
        // The newest events are all present: the active file plus the two kept rotations end with the last one.
        let kept = try all.flatMap { try readEvents(dir.file($0)) }.compactMap { $0.alert?.id }
        #expect(kept.contains("alert-\(written - 1)"))
    }

    @Test func rotatesByTime() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let c = try config("directory: \(dir.path)\npath: ev.ndjson\nrotate_interval: 200ms\nmax_rotated_files: 0")
        let sink = try await JSONFileSink.open(configuration: c, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<1))
        try await Task.sleep(for: .milliseconds(300))
        try await sink.write(SampleEvents.alerts(1..<2))
        try await Task.sleep(for: .milliseconds(300))
        try await sink.write(SampleEvents.alerts(2..<3))
        try await sink.close()
        let all = files(under: dir.path)
        #expect(all.count == 3, "\(all)")
        let ids = try all.flatMap { try readEvents(dir.file($0)) }.compactMap { $0.alert?.id }.sorted()
        #expect(ids == ["alert-0", "alert-1", "alert-2"])
    }

    @Test func createsPrivateFilesAndDirectories() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let c = try config("directory: \(dir.path)/d\npath: sub/ev.ndjson")
        let sink = try await JSONFileSink.open(configuration: c, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<1))
        try await sink.close()
        func mode(_ p: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as! NSNumber).intValue
        }
        #expect(try mode(dir.file("d/sub/ev.ndjson")) == 0o600)
        #expect(try mode(dir.file("d/sub")) == 0o700)
        #expect(try mode(dir.file("d")) == 0o700)

        let open = try config("directory: \(dir.path)/e\npath: ev.ndjson\nfile_mode: \"0644\"")
        let sink2 = try await JSONFileSink.open(configuration: open, logger: quiet)
        try await sink2.write(SampleEvents.alerts(0..<1))
        try await sink2.close()
        #expect(try mode(dir.file("e/ev.ndjson")) == 0o644)
    }

    @Test func repairsATornLastLineOnOpen() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let good = JSONWriter.string(SampleEvents.alert(1).jsonValue)
        try (good + "\n" + #"{"event_type":"alert","id":"half"#).write(
            toFile: dir.file("ev.ndjson"), atomically: true, encoding: .utf8)
        let sink = try await JSONFileSink.open(
            configuration: try JSONFileSink.Configuration(directory: dir.path, path: "ev.ndjson"), logger: quiet)
        try await sink.write(SampleEvents.alerts(2..<3))
        #expect(await sink.repairedFiles == 1)
        try await sink.close()
        #expect(try readEvents(dir.file("ev.ndjson")).compactMap { $0.alert?.id } == ["alert-1", "alert-2"])
        #expect(
            try String(contentsOfFile: dir.file("ev.ndjson.torn"), encoding: .utf8)
                == #"{"event_type":"alert","id":"half"# + "\n")
    }

    /// kill -9 of a real collector process while it writes: afterwards every complete line
    /// parses, at most the last line of a file is torn, and the next start repairs it so that
    /// every line parses. Repeated at several moments.
    @Test func killDashNineLeavesOnlyWholeLines() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let configPath = try dir.write(
            "collector.yaml",
            """
            state_directory: state
            sources:
              - type: synthetic
                count: 2000000
                batch_size: 1000
            sinks:
              - type: json-file
                directory: out
                path: ev.ndjson
                fsync: never
                max_file_size: 0
                batch: {max_events: 2000, max_bytes: 8MiB}
            """)
        let file = dir.file("out/ev.ndjson")
        for round in 0..<4 {
            let (process, _, _) = try CollectorProcess.start(["run", "--config", configPath, "--log-level", "error"])
            // Wait until the file has data, then a little more, different each round.
            for _ in 0..<200
            where (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0) ?? 0 < 100_000 {
                try await Task.sleep(for: .milliseconds(25))
            }
            try await Task.sleep(for: .milliseconds(37 * round + 11))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
            let complete = parts.dropLast()  // the part after the last newline: empty, or a torn line
            for line in complete { _ = try JSONParser.parse(String(line)) }
            #expect(complete.count > 0)
        }
        // A new start repairs the tail before writing anything.
        let configuration = try JSONFileSink.Configuration(directory: dir.file("out"), path: "ev.ndjson")
        let sink = try await JSONFileSink.open(configuration: configuration, logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<1))
        try await sink.close()
        let all = try lines(file)
        for line in all { _ = try JSONParser.parse(line) }
        #expect(all.count > 1000)
    }
}
