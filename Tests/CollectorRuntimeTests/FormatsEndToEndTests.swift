import CollectorTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A collector run writes 2,000 alerts in every format, and each file passes its independent
/// check: Python's json, OCSF's published schema, Elastic's ECS field definitions, cefp.
@Suite struct FormatsEndToEndTests {
    static let validators = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EventFormatsTests").path

    @Test func aRunWritesEveryFormatAndEachLinePassesItsChecker() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sinks = ["json", "leef", "cef", "ocsf", "ecs"].map { format in
            "  - {type: json-file, name: \(format), directory: out, path: \(format).txt, format: \(format), "
                + "max_file_size: null, fsync: never}"
        }
        let config = try dir.write(
            "c.yaml",
            """
            state_directory: state
            sources: [{type: synthetic, count: 2000, batch_size: 250}]
            sinks:
            \(sinks.joined(separator: "\n"))
            """)
        let result = try await CollectorProcess.runTool(
            CollectorProcess.executable, ["run", "--config", config, "--log-level", "warning"])
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        func file(_ format: String) -> String { dir.file("out/\(format).txt") }
        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await CollectorProcess.runTool("/usr/bin/env", ["python3"] + arguments)
        }
        let json = try await run([
            "-c", "import json,sys\nprint(len({json.loads(l)['id'] for l in open(sys.argv[1])}))", file("json"),
        ])
        #expect(json.stdout == "2000\n", "json: \(json.stdout) \(json.stderr.suffix(500))")
        let ocsf = try await run(["\(Self.validators)/Validators/validate_ocsf.py", "1.3.0", file("ocsf")])
        #expect(ocsf.status == 0 && ocsf.stdout.hasSuffix("ok 2000\n"), "ocsf: \(ocsf.stdout.prefix(2000))")
        let ecs = try await run([
            "\(Self.validators)/Validators/ecs_check.py", "\(Self.validators)/Fixtures/ecs/ecs-8.17.0-fields.json",
            file("ecs"), "microsoft.graph",
        ])
        #expect(ecs.status == 0, "ecs: \(ecs.stdout.prefix(2000))")
        let cef = try await run(["\(Self.validators)/Validators/cef_parse.py", file("cef")])
        #expect(cef.status == 0, "cef: \(cef.stderr.prefix(2000))")
        #expect(cef.stdout.split(separator: "\n").count == 2000)
        let leef = try await CollectorProcess.runTool("/usr/bin/env", ["grep", "-c", "^LEEF:2.0|", file("leef")])
        #expect(leef.stdout == "2000\n", "leef: \(leef.stdout)")
    }
}
