import ArgumentParser
public import CollectorCore
import CurlTransport
import Foundation
import GraphSimulator
import GraphSecuritySource
import GzipStream
import Logging
import UnixSignals

/// The `graph-collector` command line. A custom build of the collector (built-in plugins plus
/// your own) is a few lines:
/// ```swift
/// import CollectorRuntime
/// var registry = PluginRegistry.builtins()
/// registry.register(sink: MySink.Plugin.self)
/// await CollectorMain.main(registry: registry)
/// ```
public enum CollectorMain {
    public static let version = CollectorVersion.current

    @TaskLocal static var registry = PluginRegistry.builtins()

    /// Parses the arguments (default: the process's) and runs the command; exits the process
    /// with the command's status.
    public static func main(registry: PluginRegistry = .builtins(), arguments: [String]? = nil) async {
        // A receiver that resets a connection must fail one write, not kill the process (some
        // TLS stacks write with plain write(2), which raises SIGPIPE).
        signal(SIGPIPE, SIG_IGN)
        await $registry.withValue(registry) {
            await RootCommand.main(arguments)
        }
    }
}

struct RootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph-collector",
        abstract: "Collects Microsoft Graph Security alerts and delivers them to SIEM sinks.",
        discussion: """
            Polls the Graph Security API (alerts_v2, incidents, legacy alerts), turns every 206 Partial \
            Content Warning item into a provider-warning event with a diagnosis, and publishes normalized \
            events to the sinks named in the configuration file.
            """,
        version: CollectorMain.version,
        subcommands: [RunCommand.self, ValidateCommand.self, TestCommand.self, SimulateCommand.self, PluginsCommand.self, StatusCommand.self, DeadLetterCommand.self, ArchiveCommand.self, VersionCommand.self])
}

struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: the config's logging.level).",
            transform: { text in
                guard let level = Logger.Level(rawValue: text) else {
                    throw ValidationError("'\(text)' is not a log level; use trace, debug, info, notice, warning, error or critical")
                }
                return level
            })
    var level: Logger.Level?

    @Option(name: .customLong("log-format"), help: "text or json (default: the config's logging.format).",
            transform: { text in
                guard let format = LoggingSettings.Format(rawValue: text) else {
                    throw ValidationError("'\(text)' is not a log format; use text or json")
                }
                return format
            })
    var format: LoggingSettings.Format?
}

/// Bootstraps swift-log once per process.
enum LogBootstrap {
    nonisolated(unsafe) static var done = false

    static func bootstrap(level: Logger.Level, format: LoggingSettings.Format) -> Logger {
        if !done {
            done = true
            LoggingSystem.bootstrap { label in
                StderrLogHandler(label: label, level: level, format: format == .json ? .json : .text)
            }
        }
        return Logger(label: "graph-collector")
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the collector until its sources finish or SIGINT/SIGTERM.",
        discussion: "Without --config, runs the built-in quickstart: the Graph simulator on loopback, collected into ./graph-collector-out (state in ./graph-collector-state).")

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
                loaded = try ConfigLoader.load(text: BuiltinQuickstart.yaml, name: config, directory: ".", registry: CollectorMain.registry)
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
            level: logging.level ?? loaded.settings.logging.level, format: logging.format ?? loaded.settings.logging.format)
        do {
            _ = try await CollectorApplication.run(loaded, logger: logger)
        } catch {
            logger.critical("collector stopped with an error", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check configuration files and list every problem, with file, line and column.",
        discussion: "Exits 0 when every file is valid, 1 otherwise. Nothing is started or written.")

    @Option(name: .shortAndLong, parsing: .upToNextOption, help: "Configuration files to check.")
    var config: [String]

    @Argument(help: "More configuration files to check.")
    var files: [String] = []

    func run() async throws {
        let all = config + files
        guard !all.isEmpty else { throw ValidationError("name at least one file with --config") }
        var failed = false
        for file in all {
            do {
                let loaded = try ConfigLoader.load(file: file, registry: CollectorMain.registry)
                let included = loaded.files.count > 1 ? ", \(loaded.files.count - 1) included file(s)" : ""
                print("\(file): ok (\(loaded.sources.count) source(s), \(loaded.sinks.count) sink(s)\(included))")
                for warning in loaded.warnings { printError("warning: \(warning)") }
            } catch {
                failed = true
                printError(error.description)
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the source and sink types this build knows, with their options.")

    func run() async throws {
        let registry = CollectorMain.registry
        print("Sources:")
        for type in registry.sourceTypes {
            let p = registry.source(type: type)!
            describe(type: type, summary: p.summary, options: SourceCommonSettings.keys.dropFirst().map(common) + p.options)
        }
        print("\nSinks:")
        for type in registry.sinkTypes {
            let p = registry.sink(type: type)!
            describe(type: type, summary: p.summary, options: p.options)
        }
        let common = ["name"] + SinkDeliverySettings.defaultsListing + ["dead_letters (true)", "spool_max_size (none)"]
        print("\nEvery sink also takes: " + common.joined(separator: ", ") + ".")
    }

    func common(_ key: String) -> PluginOption {
        PluginOption(key, type: "string", default: "the type", "unique name used in logs and state")
    }

    func describe(type: String, summary: String, options: [PluginOption]) {
        print("  \(type): \(summary)")
        for o in options {
            let d = o.defaultValue.map { "default \($0)" } ?? "required"
            print("      \(o.name) (\(o.type), \(d)): \(o.summary)")
        }
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print versions of the collector and its libraries.")

    func run() async throws {
        print("graph-collector \(CollectorMain.version)")
        print(CurlLibrary.versionSummary)
        print("zlib \(zlibVersionString)")
    }
}

/// Loads a configuration for a command; prints every problem and exits 2 if it is unusable.
func loadConfiguration(_ file: String) throws -> LoadedConfiguration {
    do {
        let loaded = try ConfigLoader.load(file: file, registry: CollectorMain.registry)
        for warning in loaded.warnings { printError("warning: \(warning)") }
        return loaded
    } catch {
        printError(error.description)
        throw ExitCode(2)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve the built-in Graph Security API simulator on 127.0.0.1 until SIGINT/SIGTERM.",
        discussion: "Data and faults come from the 'simulator:' section of --config (defaults without one).")

    @Option(name: .shortAndLong, help: "A configuration file with a 'simulator:' section.")
    var config: String?

    @Option(help: "Port to listen on (0: any free port; default: the config's simulator.port).")
    var port: UInt16?

    func run() async throws {
        var settings = SimulatorConfiguration()
        var configuredPort: UInt16 = 0
        if let config, let s = try loadConfiguration(config).settings.simulator {
            settings = s.configuration
            configuredPort = s.port
        }
        let simulator = GraphSimulator(configuration: settings)
        let url = try await simulator.start(port: port ?? configuredPort)
        print("Graph simulator listening on \(url)")
        print("  token endpoint: \(url)/\(settings.tenantId)/oauth2/v2.0/token")
        print("  tenant_id: \(settings.tenantId)  client_id: \(settings.clientId)  client_secret: \(settings.clientSecret)")
        print("  endpoints: \(url)/v1.0/security/alerts_v2, /incidents, /alerts")
        FileHandle.standardOutput.synchronizeFile()
        await waitForTermination()
        await simulator.stop()
    }
}

/// Suspends until SIGINT or SIGTERM.
func waitForTermination() async {
    for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
}

struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Sign in and query each enabled Graph endpoint once; report what works and what to fix.",
        discussion: "Exits 0 when collection would work (warnings such as a 206 allowed), 1 when it would not, 2 for a bad configuration.")

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
            let context = SourceContext(name: entry.settings.name, logger: logger, stateDirectory: "/nonexistent",
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
