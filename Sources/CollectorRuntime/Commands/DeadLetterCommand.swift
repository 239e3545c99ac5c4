import ArgumentParser
import CollectorCore
import CollectorSystem
import Foundation
import Logging

/// `graph-collector deadletter list|replay`: the events sinks rejected permanently.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadletter",
        abstract:
            "List or replay the events sinks rejected permanently (kept in <state>/sinks/<name>/deadletter.ndjson).",
        subcommands: [List.self, Replay.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the dead letters per sink and reason; --show prints the first events.")

        @Option(name: .shortAndLong, help: "The collector's configuration file.")
        var config: String

        @Option(help: "Only this sink.")
        var sink: String?

        @Option(help: "Also print this many dead-lettered events (NDJSON).")
        var show = 0

        func run() async throws {
            let loaded = try ConfigLoader.load(file: config, registry: CollectorMain.registry)
            var total = 0
            for entry in loaded.sinks where sink == nil || entry.settings.name == sink {
                let path = CollectorStatus.deadLetterPath(state: loaded.stateDirectory, sink: entry.settings.name)
                let entries = try DeadLetterStore.read(path)
                total += entries.count
                print(
                    "\(entry.settings.name): \(entries.count) dead letter(s)" + (entries.isEmpty ? "" : " in \(path)"))
                var reasons: [String: Int] = [:]
                for e in entries { reasons[e.reason, default: 0] += 1 }
                for (reason, count) in reasons.sorted(by: { $0.value > $1.value }).prefix(5) {
                    print("  \(count) × \(reason.prefix(200))")
                }
                for e in entries.prefix(show) { print(e.event.ndjsonText, terminator: "") }
            }
            if let sink, !loaded.sinks.contains(where: { $0.settings.name == sink }) {
                throw ValidationError(
                    "no sink named '\(sink)' in \(config); sinks: \(loaded.sinks.map(\.settings.name).joined(separator: ", "))"
                )
            }
            if total == 0 { print("no dead letters") }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a sink's dead letters to it again (after fixing the cause), then set the file aside.",
            discussion:
                "Builds the sink from the configuration, writes the events in batches, and renames the file to "
                + "deadletter.replayed-<time>.ndjson when all were accepted. Stop the collector first, or replay "
                + "into a sink it does not run."
        )

        @Option(name: .shortAndLong, help: "The collector's configuration file.")
        var config: String

        @Option(help: "The sink whose dead letters to replay.")
        var sink: String

        func run() async throws {
            let loaded = try ConfigLoader.load(file: config, registry: CollectorMain.registry)
            guard let entry = loaded.sinks.first(where: { $0.settings.name == sink }) else {
                throw ValidationError(
                    "no sink named '\(sink)' in \(config); sinks: \(loaded.sinks.map(\.settings.name).joined(separator: ", "))"
                )
            }
            let path = CollectorStatus.deadLetterPath(state: loaded.stateDirectory, sink: sink)
            let entries = try DeadLetterStore.read(path)
            guard !entries.isEmpty else {
                print("\(sink): no dead letters")
                return
            }
            let logger = Logger(label: "graph-collector")
            let built = try await entry.make(
                SinkContext(
                    name: sink, logger: logger, stateDirectory: "\(loaded.stateDirectory)/sinks/\(sink)",
                    configurationDirectory: loaded.directory))
            var sent = 0
            do {
                let size = max(1, entry.settings.delivery.batch.maxEvents)
                for start in stride(from: 0, to: entries.count, by: size) {
                    try await built.write(entries[start..<min(entries.count, start + size)].map(\.event))
                    sent = min(entries.count, start + size)
                }
                try await built.flush()
                try await built.close()
            } catch {
                try? await built.close()
                printError(
                    "\(sink): replay stopped after \(sent) of \(entries.count) event(s): \(error). The dead-letter "
                        + "file is unchanged; events already sent may arrive twice on the next replay."
                )
                throw ExitCode(1)
            }
            let stamp = Timestamp.now().iso8601(fractionDigits: 0).replacingOccurrences(of: ":", with: "")
            let aside = path.replacingOccurrences(of: "deadletter.ndjson", with: "deadletter.replayed-\(stamp).ndjson")
            guard rename(path, aside) == 0 else {
                throw ValidationError("replayed, but could not rename \(path): \(String(cString: strerror(errno)))")
            }
            print("\(sink): replayed \(entries.count) event(s); the file is now \(aside)")
        }
    }
}

extension Event {
    /// The NDJSON line of the event, newline included.
    var ndjsonText: String {
        var writer = JSONWriter()
        ndjsonLine(into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
