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
