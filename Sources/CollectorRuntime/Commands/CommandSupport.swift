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

struct LoggingOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical (default: the config's logging.level).",
        transform: { text in
            guard let level = Logger.Level(rawValue: text) else {
                throw ValidationError(
                    "'\(text)' is not a log level; use trace, debug, info, notice, warning, error or critical")
            }
            return level
        })
    var level: Logger.Level?

    @Option(
        name: .customLong("log-format"), help: "text (logfmt) or json (default: the config's logging.format).",
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

/// Suspends until SIGINT or SIGTERM.
func waitForTermination() async {
    for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return }
}
