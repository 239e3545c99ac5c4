import ArgumentParser
import CollectorConfig
import CollectorCore
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the collector until its sources finish or SIGINT/SIGTERM.",
        discussion: """
            The configuration is --config FILE, else $\(environmentVariable), else \(systemConfiguration). \
            With none of them, run exits 2: it never guesses. `graph-collector quickstart` runs the built-in \
            demo (the Graph simulator into ./graph-collector-out).
            """
    )

    static let environmentVariable = "GRAPH_COLLECTOR_CONFIG"
    static let systemConfiguration = "/etc/graph-collector/collector.yaml"

    @Option(
        name: .shortAndLong,
        help: "The configuration file (YAML). Default: $\(environmentVariable), else \(systemConfiguration).")
    var config: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        guard let file = Self.configurationFile(given: config, environment: ProcessInfo.processInfo.environment)
        else {
            printError(Self.noConfiguration)
            throw ExitCode(2)
        }
        let loaded: LoadedConfiguration
        do {
            loaded = try ConfigLoader.load(file: file, registry: CollectorMain.registry)
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        try await Self.run(loaded, name: file, logging: logging)
    }

    /// `--config`, else the environment variable, else the system file when it exists.
    static func configurationFile(given: String?, environment: [String: String]) -> String? {
        if let given { return given }
        if let named = environment[environmentVariable], !named.isEmpty { return named }
        // Anything but "no such file" (a directory this user may not search, say) is the loader's
        // to report.
        var info = stat()
        return stat(systemConfiguration, &info) == 0 || errno != ENOENT ? systemConfiguration : nil
    }

    static var noConfiguration: String {
        "no configuration: give --config FILE, set \(environmentVariable), or create \(systemConfiguration) "
            + "(`graph-collector validate --config FILE` checks one). "
            + "`graph-collector quickstart` runs the built-in demo instead."
    }

    /// Runs a loaded configuration: refuses one without sources or sinks, logs as configured.
    static func run(_ loaded: LoadedConfiguration, name: String, logging: LoggingOptions) async throws {
        let problems = loaded.unrunnable(name: name)
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
