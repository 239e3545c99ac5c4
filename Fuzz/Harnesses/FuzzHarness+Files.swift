import CollectorConfig
import CollectorCore
import CollectorRuntime
import Foundation
import GraphSecuritySource

/// Targets for what the collector reads from disk: its configuration and its own state, torn
/// or damaged.
extension FuzzHarness {
    /// The YAML configuration with every built-in plugin (so the syslog, webhook, exec, file
    /// and Graph settings are decoded too): any text gives a configuration or located errors.
    static let configuration = FuzzHarness("configuration", "ConfigLoader over YAML text, every built-in plugin") {
        data in
        let directory = Scratch.reset()
        do throws(ConfigErrors) {
            _ = try ConfigLoader.load(
                text: String(decoding: data, as: UTF8.self), name: "fuzz.yaml", directory: directory,
                registry: .builtins(), environment: ["HOME": "/nonexistent"])
        } catch {
            for e in error.errors { require(!e.description.isEmpty, "an empty error") }
        }
    }

    /// A Graph endpoint checkpoint as it is read at start: what reads writes and reads back.
    static let checkpoint = FuzzHarness("checkpoint", "EndpointCheckpoint(json:) and its JSON round trip") { data in
        guard let json = try? JSONParser.parse(bytes: data), let checkpoint = EndpointCheckpoint(json: json) else {
            return
        }
        let again = EndpointCheckpoint(json: checkpoint.json)
        require(again?.watermark == checkpoint.watermark, "a checkpoint does not read back")
        require(again?.pending.count == checkpoint.pending.count, "pending windows do not read back")
        // What the engine does with the windows it read: ages, attempts and merges from a file.
        let scheduler = RecoveryScheduler(federated: true, giveUpAfter: .seconds(60))
        let now = Timestamp(nanosecondsSinceEpoch: 1_764_000_000_000_000_000)
        var merged: [OwedWindow] = []
        for window in checkpoint.pending {
            _ = scheduler.failed(window, status: 403, now: now, fromWarning: true)
            var also: [OwedWindow] = []
            _ = scheduler.decide(window, after: WindowResult(), now: now, also: &also)
            scheduler.add(window, to: &merged)
        }
    }

    /// A spool directory: the input's first line is the read position file, the rest the first
    /// segment. Opening cuts a torn tail; reading skips damage; nothing traps.
    static let spool = FuzzHarness("spool", "Spool.open/next/commit over a damaged segment and read position") { data in
        let directory = Scratch.reset()
        let newline = data.firstIndex(of: 0x0A) ?? data.count
        FileManager.default.createFile(atPath: "\(directory)/read-position", contents: Data(data[..<newline]))
        let segment = newline < data.count ? Data(data[(newline + 1)...]) : Data()
        FileManager.default.createFile(atPath: "\(directory)/segment-0000000001.log", contents: segment)
        blocking {
            let spool = Spool(directory: directory, maxBytes: 1 << 30)
            do {
                try await spool.open()
                for _ in 0..<100 {
                    guard let record = try await spool.next() else { break }
                    try await spool.commit(record)
                }
            } catch {}
            await spool.close()
        }
    }

    /// A dead-letter file: every line an entry or a located error.
    static let deadLetters = FuzzHarness("dead-letters", "DeadLetterStore.read over a damaged file") { data in
        let path = Scratch.reset() + "/fuzz.deadletter.ndjson"
        FileManager.default.createFile(atPath: path, contents: Data(data))
        do {
            let entries = try DeadLetterStore.read(path)
            for entry in entries { _ = entry.event.jsonValue }
        } catch {
            require(!"\(error)".isEmpty, "an empty error")
        }
    }
}
