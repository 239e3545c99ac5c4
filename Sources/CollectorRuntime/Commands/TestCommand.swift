import ArgumentParser
import CollectorConfig
import CollectorCore
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import Logging
import UnixSignals

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Sign in and query each enabled Graph endpoint once; report what works and what to fix.",
        discussion:
            "Exits 0 when collection would work (warnings such as a 206 allowed), 1 when it would not, 2 for a bad "
            + "configuration."
    )

    @Option(name: .shortAndLong, help: "The configuration file (YAML).")
    var config: String

    func run() async throws {
        let loaded = try loadConfiguration(config)
        let logger = Logger(label: "graph-collector", factory: { _ in SwiftLogNoOpLogHandler() })
        var services: [String: String] = [:]
        let simulator = try await loaded.settings.simulator?.start(services: &services)
        if let url = services["graph-simulator"] { print("(using the built-in simulator at \(url))") }
        let graphSources = loaded.sources.filter { $0.settings.type == GraphSecurityCollector.Plugin.type }
        guard !graphSources.isEmpty else {
            printError("\(config): no graph-security source to test")
            throw ExitCode(2)
        }
        var works = true
        for entry in graphSources {
            print("Source '\(entry.settings.name)':")
            let context = SourceContext(
                name: entry.settings.name, logger: logger, stateDirectory: "/nonexistent",
                configurationDirectory: loaded.directory, services: services)
            do {
                guard let source = try await entry.make(context) as? GraphSecurityCollector else { continue }
                let report = await source.protocolTest()
                print(report.text)
                works = works && report.collectionWouldWork
            } catch {
                print("[FAIL] the source cannot start: \(error)")
                works = false
            }
        }
        await simulator?.stop()
        if !works { throw ExitCode(1) }
    }
}
