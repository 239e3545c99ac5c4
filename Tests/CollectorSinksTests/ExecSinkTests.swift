import CollectorCore
import CollectorSinks
import CollectorTesting
import Foundation
import Testing

@Suite struct ExecSinkTests {
    static let child = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "Support/exec_child.sh"
    ).path

    func readEvents(_ path: String) throws -> [Event] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try Event(json: JSONParser.parse(String($0))) }
    }

    @Test func keepsTheSinkContractWithAcknowledgements() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("out.ndjson")
        let config = ExecSink.Configuration(command: ["/bin/sh", Self.child, out], ack: true)
        try await SinkConformance.check(
            makeSink: { ExecSink(configuration: config, logger: quiet) },
            readBack: { try readEvents(out) })
    }

    @Test func theChildStartsInItsWorkingDirectoryWithoutAShell() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let work = dir.file("work dir with 'quotes' and spaces")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: [/bin/sh, \(Self.child), relative.ndjson]
                    working_directory: "\(work)"
                    ack: true
                    """), logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<3))
        try await sink.close()
        #expect(try readEvents("\(work)/relative.ndjson").count == 3, "the relative path resolves in working_directory")
    }

    @Test func aBareCommandIsFoundOnThePATHOfTheSinksEnvironment() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bin = dir.file("bin")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.child, toPath: "\(bin)/my-sink")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/my-sink")
        let out = dir.file("out.ndjson")
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: [my-sink, \(out)]
                    environment: {PATH: "\(bin):/usr/bin:/bin"}
                    ack: true
                    """), logger: quiet)
        // The copy was just written: a process another test forks meanwhile may still hold it open
        // for writing, and exec then fails with ETXTBSY, a retryable error the pipeline would retry.
        for attempt in 1...20 {
            do {
                try await sink.write(SampleEvents.alerts(0..<2))
                break
            } catch let error as SinkError where "\(error)".contains("Text file busy") && attempt < 20 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        try await sink.close()
        #expect(try readEvents(out).count == 2)
    }

    @Test func aMissingWorkingDirectoryIsNamed() async throws {
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: [/bin/cat]
                    working_directory: /nonexistent/place
                    ack: false
                    """), logger: quiet)
        let error = await #expect(throws: SinkError.self) { try await sink.write(SampleEvents.alerts(0..<1)) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("'/nonexistent/place' is not a directory"))
        try await sink.close()
    }

    @Test func aCrashingChildIsRestartedAndLosesNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("out.ndjson")
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: [/bin/sh, \(Self.child), \(out), "3"]
                    ack: true
                    ack_timeout: 5s
                    """), logger: quiet)
        let pipeline = EventPipeline(
            sinks: [
                .init(
                    name: "exec", sink: sink, batch: BatchPolicy(maxEvents: 20, maxDelay: .seconds(0.02)),
                    retry: RetryPolicy(initialDelay: .seconds(0.02), maxDelay: .seconds(0.2)))
            ],
            logger: quiet)
        let running = Task { try await pipeline.run() }
        let receipt = try await pipeline.publish((0..<200).map { TrickyEvents.alert($0) })
        #expect(await receipt.delivered().isComplete)
        await pipeline.shutdown()
        try await running.value
        let statistics = await sink.statistics
        #expect(statistics.starts == 2, "\(statistics)")
        #expect(statistics.lastExit == "exit status 3" || statistics.lastExit == "exit status 0", "\(statistics)")
        let ids = try readEvents(out).map { $0.alert!.id }
        #expect(Set(ids) == Set((0..<200).map { "tricky-\($0)" }))
        #expect(ids.count - 200 <= 20, "only the unacknowledged batch may repeat")
        #expect(FileManager.default.fileExists(atPath: out + ".crashed"))
    }

    @Test(.enabled(if: ChildProcess.closesInheritedDescriptors, "needs glibc 2.34 (addclosefrom_np)"))
    func theChildInheritsNoDescriptorButItsStandardOnes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // A descriptor of the collector's without close-on-exec (as a library may leave one), at
        // a number the child's shell would not open itself (the lowest free one from 211).
        let opened = open(dir.file("held"), O_CREAT | O_WRONLY, 0o600)
        #expect(opened >= 0)
        let held = fcntl(opened, F_DUPFD, 211)
        close(opened)
        defer { close(held) }
        #expect(held >= 211 && fcntl(held, F_GETFD) & FD_CLOEXEC == 0)
        let out = dir.file("fds.txt")
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self, yaml: "command: \"ls /proc/self/fd > \(out); cat > /dev/null\""),
            logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<2))
        try await sink.close()
        let fds = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(Set([0, 1, 2]).isSubset(of: Set(fds)), "\(fds)")
        #expect(!fds.contains(Int(held)), "the child holds the collector's descriptor \(held): \(fds)")
    }

    @Test func withoutAcknowledgementsEventsAreStreamedAndTheChildSeesEndOfInput() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("lines.ndjson")
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: "cat > \(out); echo done > \(out).finished"
                    """), logger: quiet)
        try await sink.write(SampleEvents.alerts(0..<50))
        try await sink.write([SampleEvents.providerWarning()])
        try await sink.close()
        #expect(try readEvents(out) == SampleEvents.alerts(0..<50) + [SampleEvents.providerWarning()])
        #expect(
            FileManager.default.fileExists(atPath: out + ".finished"),
            "close() ends the child's input and lets it finish")
    }

    @Test func aChattyChildWithoutAcknowledgementsCannotStallTheSink() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let out = dir.file("lines.ndjson")
        // Writes 2 MB to stdout (nobody reads it) and to stderr before reading its input.
        let sink = ExecSink(
            configuration: try CollectorTestingConfig.decode(
                ExecSink.Configuration.self,
                yaml: """
                    command: "head -c 2000000 /dev/zero | tr '\\\\0' x; head -c 100000 /dev/zero | tr '\\\\0' y >&2; cat > \(out)"
                    write_timeout: 20s
                    """), logger: quiet)
        try await sink.write((0..<300).map { TrickyEvents.alert($0) })
        try await sink.close()
        #expect(try readEvents(out).count == 300)
    }

    @Test func aMissingProgramIsARetryableErrorThatSaysSo() async throws {
        let sink = ExecSink(
            configuration: ExecSink.Configuration(command: ["/nonexistent/sink-program"], ack: true), logger: quiet)
        do {
            try await sink.write([SampleEvents.alert(1)])
            Issue.record("no error")
        } catch let error as SinkError {
            #expect(error.isRetryable && error.description.contains("/nonexistent/sink-program"), "\(error)")
        }
        try await sink.close()
    }
}
