public import CollectorCore
import Foundation

/// The status file a running collector keeps in its state directory (`status.json`, rewritten
/// every two seconds and at exit), read by `graph-collector status`.
public enum CollectorStatus {
    public static func path(state: String) -> String { "\(state)/status.json" }
    public static func deadLetterPath(state: String, sink: String) -> String { "\(state)/sinks/\(sink)/deadletter.ndjson" }

    /// Writes the status file (atomically, fsynced) on its own thread: the writer runs every two
    /// seconds and must not block Swift's cooperative pool with file I/O.
    actor Writer {
        private let executor = DedicatedThreadExecutor(name: "status-file")
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        let path: String
        init(path: String) { self.path = path }

        func write(running: Bool, startedAt: Timestamp, sources: [String], sinks: [SinkStatistics]) {
            CollectorStatus.write(to: path, running: running, startedAt: startedAt, sources: sources, sinks: sinks)
        }

        func close() { executor.shutdown() }
    }

    static func write(to path: String, running: Bool, startedAt: Timestamp, sources: [String], sinks: [SinkStatistics]) {
        let json: JSONValue = .object([
            ("updated_at", .string(Timestamp.now().iso8601())), ("started_at", .string(startedAt.iso8601())),
            ("pid", .number(String(ProcessInfo.processInfo.processIdentifier))), ("running", .bool(running)),
            ("sources", .array(sources.map { .string($0) })),
            ("sinks", .array(sinks.map { s in
                var members: [(String, JSONValue)] = [
                    ("name", .string(s.name)), ("required", .bool(s.required)), ("queued", .number(String(s.queued))),
                    ("accepted", .number(String(s.accepted))), ("batches", .number(String(s.batches))),
                    ("retries", .number(String(s.retries))), ("rejected", .number(String(s.rejected))),
                    ("dead_lettered", .number(String(s.deadLettered))), ("dropped", .number(String(s.dropped))),
                    ("spooled", .number(String(s.spooled))), ("from_spool", .number(String(s.unspooled))),
                    ("undelivered", .number(String(s.undelivered))),
                ]
                if let e = s.lastError { members.append(("last_error", .string(e))) }
                return .object(members)
            })),
        ])
        try? AtomicFile.write(Array((JSONWriter.string(json) + "\n").utf8), to: path, mode: 0o600)
    }

    /// A readable table of a status file, with whether the collector is still running.
    public static func describe(_ json: JSONValue) -> String {
        var lines: [String] = []
        let pid = json["pid"]?.intValue ?? 0
        let alive = pid > 0 && kill(pid_t(pid), 0) == 0
        let running: Bool = { if case .bool(let b)? = json["running"] { return b }; return false }()
        let updated = json["updated_at"]?.stringValue ?? "?"
        lines.append(running && alive ? "running (pid \(pid)), status of \(updated)"
                     : "not running; last status \(updated)" + (running ? " (it did not stop cleanly)" : ""))
        lines.append("sources: " + (json["sources"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))
        lines.append("sink                 queued   accepted  retries  rejected  dead-let.  dropped  undeliv.  spooled  from spool  last error")
        for s in json["sinks"]?.arrayValue ?? [] {
            func n(_ k: String) -> String { s[k]?.scalarText ?? "0" }
            func pad(_ t: String, _ w: Int) -> String { t.count >= w ? t : t + String(repeating: " ", count: w - t.count) }
            func lpad(_ t: String, _ w: Int) -> String { t.count >= w ? t : String(repeating: " ", count: w - t.count) + t }
            lines.append(pad(s["name"]?.stringValue ?? "?", 18) + lpad(n("queued"), 9) + lpad(n("accepted"), 11) + lpad(n("retries"), 9)
                         + lpad(n("rejected"), 10) + lpad(n("dead_lettered"), 11) + lpad(n("dropped"), 9) + lpad(n("undelivered"), 10)
                         + lpad(n("spooled"), 9) + lpad(n("from_spool"), 12) + "  " + String((s["last_error"]?.stringValue ?? "-").prefix(100)))
        }
        return lines.joined(separator: "\n")
    }
}
