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

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the collector until its sources finish or SIGINT/SIGTERM.",
        discussion:
            "Without --config, runs the built-in quickstart: the Graph simulator on loopback, collected into "
            + "./graph-collector-out (state in ./graph-collector-state)."
    )

    @Option(name: .shortAndLong, help: "The configuration file (YAML). Default: the built-in quickstart.")
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let loaded: LoadedConfiguration
        let config = self.config ?? "(built-in quickstart)"
        do {
            if let file = self.config {
                loaded = try ConfigLoader.load(file: file, registry: CollectorMain.registry)
            } else {
                loaded = try ConfigLoader.load(
                    text: BuiltinQuickstart.yaml, name: config, directory: ".", registry: CollectorMain.registry)
            }
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        var problems: [String] = []
        if loaded.sources.isEmpty { problems.append("\(config): no sources are configured; add a 'sources:' entry") }
        if loaded.sinks.isEmpty { problems.append("\(config): no sinks are configured; add a 'sinks:' entry") }
        guard problems.isEmpty else {
            problems.forEach(printError)
            throw ExitCode(2)
        }
        let logger = LogBootstrap.bootstrap(
            level: logging.level ?? loaded.settings.logging.level,
            format: logging.format ?? loaded.settings.logging.format)
        do {
            _ = try await CollectorApplication.run(loaded, logger: logger)
        } catch {
            logger.critical("collector stopped with an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}
