import ArgumentParser
import CollectorCore
import CollectorSystem
import Foundation
import Logging

/// `graph-collector status`: what the collector (running or last run) reports about its sinks.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract:
            "Show the sinks' counters from the collector's status file: queued, accepted, retries, rejected, "
            + "dead-lettered, dropped, last error.",
        discussion:
            "Reads <state_directory>/status.json, which a running collector rewrites every two seconds. Exits 1 when "
            + "a sink has dead letters or undelivered events. With coordination:, first shows the fleet from NATS: "
            + "its instances, and which tenants each collects, with the age of each lease."
    )

    @Option(name: .shortAndLong, help: "The collector's configuration file.")
    var config: String

    @Flag(help: "Print the status file as JSON.")
    var json = false

    func run() async throws {
        let loaded = try ConfigLoader.load(file: config, registry: CollectorMain.registry)
        if let fleet = loaded.settings.coordination, !json {
            do {
                print(try await FleetStatus.describe(fleet, directory: loaded.directory))
            } catch {
                print("fleet: cannot read it from NATS: \(error)")
            }
        }
        let path = CollectorStatus.path(state: loaded.stateDirectory)
        guard let bytes = try AtomicFile.read(path) else {
            throw ValidationError(
                "no status yet: \(path) does not exist (the collector has not run with this state_directory)")
        }
        if json {
            print(String(decoding: bytes, as: UTF8.self), terminator: "")
            return
        }
        let status = try JSONParser.parse(String(decoding: bytes, as: UTF8.self))
        print(CollectorStatus.describe(status))
        let trouble = (status["sinks"]?.arrayValue ?? []).contains {
            ($0["dead_lettered"]?.intValue ?? 0) > 0 || ($0["undelivered"]?.intValue ?? 0) > 0
        }
        if trouble { throw ExitCode(1) }
    }
}
