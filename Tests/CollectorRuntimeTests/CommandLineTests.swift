import CollectorCore
import CollectorRuntime
import CollectorTesting
import Foundation
import GzipStream
import Logging
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

@Suite struct CommandLineTests {
    @Test func validateAcceptsEveryShippedConfiguration() async throws {
        let shipped =
            (try FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/Plugins-config"))
            .filter { $0.hasSuffix(".yaml") }.map { "\(repositoryRoot)/Plugins-config/\($0)" }
            + [
                "\(repositoryRoot)/Examples/quickstart/collector.yaml",
                "\(repositoryRoot)/Examples/qradar/collector.yaml",
            ]
        #expect(shipped.count >= 4)
        let result = try await CollectorProcess.run(["validate", "--config"] + shipped)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == shipped.count)
    }

    @Test func everyDocumentedOptionIsInItsPluginsConfigFile() throws {
        let registry = PluginRegistry.builtins()
        func file(for type: String) -> String {
            // A plugin's file is <type>.yaml, or <type>-<payload>.yaml (syslog-leef.yaml).
            let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/Plugins-config")) ?? []
            let name =
                names.contains("\(type).yaml")
                ? "\(type).yaml" : names.first { $0.hasPrefix("\(type)-") } ?? "\(type).yaml"
            return "\(repositoryRoot)/Plugins-config/\(name)"
        }
        for type in registry.sinkTypes {
            let text = try String(contentsOfFile: file(for: type), encoding: .utf8)
            #expect(text.contains("type: \(type)\n"))
            for option in registry.sink(type: type)!.options {
                #expect(text.contains("\(option.name):"), "\(type): \(option.name)")
            }
        }
        for type in registry.sourceTypes {
            let text = try String(contentsOfFile: "\(repositoryRoot)/Plugins-config/\(type).yaml", encoding: .utf8)
            for option in registry.source(type: type)!.options {
                #expect(text.contains("\(option.name):"), "\(type): \(option.name)")
            }
        }
    }

    /// The option listings take their defaults from the configuration types (declared once);
    /// the shipped Plugins-config files, which show every option at its default, must agree.
    @Test func everyPluginsConfigFileShowsTheDeclaredDefaults() throws {
        let registry = PluginRegistry.builtins()
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/Plugins-config")
        func text(for type: String) throws -> String? {
            guard
                let name = names.contains("\(type).yaml")
                    ? "\(type).yaml" : names.first(where: { $0.hasPrefix("\(type)-") })
            else { return nil }
            return try String(contentsOfFile: "\(repositoryRoot)/Plugins-config/\(name)", encoding: .utf8)
        }
        func shows(_ text: String, _ key: String, _ value: String) -> Bool {
            text.contains("\(key): \(value)\n") || text.contains("\(key): \(value) ")
                || text.contains("\(key): \"\(value)\"")
        }
        let common = SinkDeliverySettings.defaultsListing.map { entry -> (String, String) in
            let key = entry.prefix { $0 != " " }.split(separator: ".").last.map(String.init) ?? ""
            return (key, String(entry.drop { $0 != "(" }.dropFirst().dropLast()))
        }
        var checked = 0
        for type in registry.sinkTypes + registry.sourceTypes {
            guard let text = try text(for: type) else { continue }
            let options = registry.sink(type: type)?.options ?? registry.source(type: type)?.options ?? []
            let plain = options.compactMap { o in o.defaultValue.map { (o.name, $0) } }
                .filter { !$0.1.contains(" ") && !$0.1.contains("<") && $0.1 != "none" }
            for (key, value) in plain + (registry.sink(type: type) != nil ? common : []) {
                #expect(shows(text, key, value), "\(type): \(key) should show its default \(value)")
                checked += 1
            }
        }
        #expect(checked > 60)
    }

    @Test func theDocCConfigurationReferenceNamesEveryPluginAndItsFile() throws {
        let reference = try String(
            contentsOfFile: "\(repositoryRoot)/Sources/CollectorCore/CollectorCore.docc/ConfigurationReference.md",
            encoding: .utf8)
        let shipped = try FileManager.default.contentsOfDirectory(atPath: "\(repositoryRoot)/Plugins-config").filter {
            $0.hasSuffix(".yaml")
        }
        let registry = PluginRegistry.builtins()
        for type in registry.sinkTypes + registry.sourceTypes {
            #expect(reference.contains("| `\(type)` |"), "\(type) is missing from ConfigurationReference.md")
        }
        for file in shipped {
            #expect(reference.contains("Plugins-config/\(file)"), "\(file) is missing from ConfigurationReference.md")
        }
    }

    @Test func theBuiltinQuickstartIsTheExampleQuickstart() throws {
        let example = try String(
            contentsOfFile: "\(repositoryRoot)/Examples/quickstart/collector.yaml", encoding: .utf8)
        let result = try ConfigLoader.load(
            text: example.replacingOccurrences(of: "../../quickstart-", with: "graph-collector-"),
            name: "x", directory: ".", registry: .builtins())
        #expect(result.sources.map(\.settings.type) == ["graph-security"])
        let builtin = try CollectorProcess.runSync(["quickstart", "--help"])
        #expect(builtin.contains("built-in quickstart"))
    }

    @Test func protocolTestReportsEachStepAndTheFailingProviders() async throws {
        let result = try await CollectorProcess.run([
            "test", "--config", "\(repositoryRoot)/Examples/quickstart/collector.yaml",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("[PASS] tenant 5f1c7d3e-2a4b-4c6d-8e9f-0a1b2c3d4e5f: signed in"))
        #expect(result.stdout.contains("[PASS] alerts_v2"))
        #expect(result.stdout.contains("[WARN] alerts"))
        #expect(result.stdout.contains("Microsoft/MCAS: HTTP 403"))
        #expect(result.stdout.contains("Collection would work, with the warnings above."))
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let example = try String(
            contentsOfFile: "\(repositoryRoot)/Examples/quickstart/collector.yaml", encoding: .utf8)
        let bad = try dir.write(
            "bad.yaml",
            example.replacingOccurrences(
                of: "client_secret: simulator-secret", with: "client_secret: Xq9-not-the-secret"))
        let failed = try await CollectorProcess.run(["test", "--config", bad])
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("[FAIL]") && failed.stdout.contains("AADSTS7000215"))
        #expect(failed.stdout.contains("create a new secret"))
        #expect(!failed.stdout.contains("Xq9-not-the-secret"), "the secret must not be printed")
    }

    @Test func validateFailsWithEveryProblemLocated() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let bad = try dir.write("bad.yaml", "sinks:\n  - type: json-file\n    directory: out\n    pth: x\n")
        let broken = try dir.write("broken.yaml", "sinks: [\n")
        let result = try await CollectorProcess.run(["validate", "--config", bad, broken])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.yaml:4:5: sinks[0] (json-file): unknown key 'pth'; did you mean 'path'?"))
        #expect(result.stderr.contains("broken.yaml:2:1: invalid YAML"), "\(result.stderr)")
    }

    @Test(
        "run without a configuration says where it looks and touches nothing",
        .enabled(
            if: !FileManager.default.fileExists(atPath: "/etc/graph-collector/collector.yaml"),
            "this machine has a system configuration, which run would use"))
    func runWithoutAConfigurationSaysWhereItLooksAndTouchesNothing() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let result = try await CollectorProcess.run(
            ["run"], environment: ["GRAPH_COLLECTOR_CONFIG": ""], directory: dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("GRAPH_COLLECTOR_CONFIG"), "\(result.stderr)")
        #expect(result.stderr.contains("/etc/graph-collector/collector.yaml"))
        #expect(result.stderr.contains("graph-collector quickstart"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "nothing written")

        let config = try dir.write(
            "from-env.yaml", "sources: [{type: synthetic, count: 5}]\nsinks: [{type: json-file, directory: out}]\n")
        let named = try await CollectorProcess.run(["run"], environment: ["GRAPH_COLLECTOR_CONFIG": config])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.file("out")), "the file the variable names was run")
    }

    @Test func runCollectsEveryEventIntoRealFiles() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "c.yaml",
            """
            sources:
              - type: synthetic
                count: 2500
                batch_size: 1000
              - type: graph-recorded
                directory: \(repositoryRoot)/Examples/quickstart/recorded
            sinks:
              - type: json-file
                directory: out
                path: "{event_type}.ndjson"
            """)
        let result = try await CollectorProcess.run(["run", "--config", config, "--log-format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let alerts = try String(contentsOfFile: dir.file("out/alert.ndjson"), encoding: .utf8).split(separator: "\n")
        #expect(alerts.count == 2500 + 4)
        #expect(Set(alerts.map { try! JSONParser.parse(String($0))["id"]!.stringValue! }).count == 2504)
        let warnings = try String(contentsOfFile: dir.file("out/provider_warning.ndjson"), encoding: .utf8).split(
            separator: "\n")
        #expect(warnings.count == 3)
        // JSON logs, one object per line, with the 206 diagnosis.
        let logLines = result.stderr.split(separator: "\n")
        #expect(logLines.allSatisfy { (try? JSONParser.parse(String($0))) != nil })
        #expect(result.stderr.contains("401 Unauthorized"))
        // The synthetic source checkpointed its progress after the acknowledgements.
        let checkpoint = try JSONParser.parse(
            String(contentsOfFile: dir.file("state/sources/synthetic/synthetic.checkpoint.json"), encoding: .utf8))
        #expect(checkpoint["next"] == .number("2500"))
        // A second run resumes: nothing more from either source.
        let again = try await CollectorProcess.run(["run", "--config", config])
        #expect(again.status == 0)
        #expect(
            try String(contentsOfFile: dir.file("out/alert.ndjson"), encoding: .utf8).split(separator: "\n").count
                == 2504)
    }

    @Test func sigtermShutsDownGracefullyAndFlushes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "c.yaml",
            """
            sources:
              - type: synthetic
                count: 100000000
                batch_size: 100
            sinks:
              - type: json-file
                directory: out
                path: ev.ndjson
                fsync: never
                batch: {max_events: 100, max_delay: 5s}
            """)
        let (process, out, err) = try CollectorProcess.start(["run", "--config", config])
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: dir.file("out/ev.ndjson")) {
            try await Task.sleep(for: .milliseconds(25))
        }
        try await Task.sleep(for: .milliseconds(300))
        kill(process.processIdentifier, SIGTERM)
        let result = await CollectorProcess.finish(process, out, err)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("sink summary"))
        // Every file of the sink: on a slow machine more than 100 MiB is written before the
        // SIGTERM, and the file rotates (ev.1.ndjson, ...).
        var count = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.file("out")) {
            let text = try String(contentsOfFile: dir.file("out/\(name)"), encoding: .utf8)
            #expect(text.hasSuffix("\n"), "\(name) ends in a whole line")
            count += text.split(separator: "\n").count
        }
        // Everything the checkpoint claims was acknowledged is in the file.
        let checkpoint = try JSONParser.parse(
            String(contentsOfFile: dir.file("state/sources/synthetic/synthetic.checkpoint.json"), encoding: .utf8))
        let acknowledged = checkpoint["next"]?.intValue ?? 0
        #expect(acknowledged > 0 && count >= acknowledged, "checkpoint \(acknowledged), file \(count)")
    }

    @Test func runRefusesAConfigurationWithoutSinks() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write("c.yaml", "sources:\n  - type: synthetic\n")
        let result = try await CollectorProcess.run(["run", "--config", config])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no sinks are configured"))
    }

    @Test func versionNamesTheCLibraries() async throws {
        let result = try await CollectorProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("libcurl 7.") || result.stdout.contains("libcurl 8."))
        #expect(result.stdout.contains("zlib 1."))
    }
}

/// A sink written against the public API only, registered like a user's own, receives events
/// through the same configuration and pipeline path as the built-ins.
@Suite struct CustomSinkTests {
    @Test func aCustomPluginIsConfiguredAndFed() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var registry = PluginRegistry.builtins()
        registry.register(sink: InMemorySink.Plugin.self)
        let path = try dir.write(
            "c.yaml",
            """
            sources:
              - type: synthetic
                count: 1234
                resume: false
            sinks:
              - type: memory
                key: custom-\(ObjectIdentifier(CustomSinkTests.self).hashValue)
                batch: {max_events: 100}
            """)
        let loaded = try ConfigLoader.load(file: path, registry: registry)
        let summary = try await CollectorApplication.run(
            loaded, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(summary.sinks.first?.accepted == 1234)
        let sink = try #require(
            InMemorySink.Plugin.sink(forKey: "custom-\(ObjectIdentifier(CustomSinkTests.self).hashValue)"))
        #expect(await sink.events.count == 1234)
        #expect(await sink.batches.allSatisfy { $0.count <= 100 })
        #expect(await sink.closed)
    }
}
