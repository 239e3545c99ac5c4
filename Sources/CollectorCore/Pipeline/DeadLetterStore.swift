#if canImport(Glibc)
    import Glibc
    import CollectorSystem
#endif

/// Where a sink's permanently rejected events go instead of being lost: one NDJSON file per
/// sink (`<state>/sinks/<name>/deadletter.ndjson`), a line per event with the reason:
/// `{"dead_letter_at":"…","sink":"qradar","reason":"…","event":{…}}`, fsynced before the
/// rejection is acknowledged. `graph-collector deadletter list|replay` reads and replays them.
package actor DeadLetterStore {
    /// One dead-lettered event.
    package struct Entry: Sendable {
        package var at: Timestamp?
        package var sink: String
        package var reason: String
        package var event: Event
    }

    package let path: String
    private let executor: DedicatedThreadExecutor
    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var fd: Int32 = -1

    package init(path: String) {
        self.path = path
        executor = DedicatedThreadExecutor(name: "dead-letters")
    }

    /// Appends events with the reason they were rejected.
    package func append(_ events: [Event], sink: String, reason: String) throws {
        if fd < 0 {
            try FileSystem.makeDirectories(FileSystem.directoryName(of: path))
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FileError(operation: "open", path: path) }
        }
        var writer = JSONWriter(reservingCapacity: 4096)
        let now = Timestamp.now().iso8601()
        for event in events {
            // The event last, written as it is (an alert's raw text is not parsed to be written).
            writer.bytes.append(contentsOf: Array(#"{"dead_letter_at":"#.utf8))
            writer.writeString(now)
            writer.bytes.append(contentsOf: Array(#","sink":"#.utf8))
            writer.writeString(sink)
            writer.bytes.append(contentsOf: Array(#","reason":"#.utf8))
            writer.writeString(reason)
            writer.bytes.append(contentsOf: Array(#","event":"#.utf8))
            event.writeJSON(into: &writer)
            writer.bytes.append(contentsOf: Array("}\n".utf8))
        }
        try FileSystem.writeAll(fd: fd, bytes: writer.bytes, path: path)
        guard fsync(fd) == 0 else { throw FileError(operation: "fsync", path: path) }
    }

    package func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        executor.shutdown()
    }

    /// Reads a dead-letter file; a damaged line is reported with its number.
    package static func read(_ path: String) throws -> [Entry] {
        guard let bytes = try AtomicFile.read(path) else { return [] }
        var entries: [Entry] = []
        for (i, line) in bytes.split(separator: 0x0A).enumerated() where !line.isEmpty {
            let text = String(decoding: line, as: UTF8.self)
            do {
                let json = try JSONParser.parse(text)
                guard let event = json["event"] else { throw EventDecodingError(field: "event", problem: "missing") }
                entries.append(
                    Entry(
                        at: json["dead_letter_at"]?.stringValue.flatMap(Timestamp.init(iso8601:)),
                        sink: json["sink"]?.stringValue ?? "", reason: json["reason"]?.stringValue ?? "",
                        event: try Event(json: event)))
            } catch {
                throw DeadLetterError(description: "\(path):\(i + 1): \(error)")
            }
        }
        return entries
    }
}

package struct DeadLetterError: Error, Sendable, CustomStringConvertible {
    package var description: String
}
