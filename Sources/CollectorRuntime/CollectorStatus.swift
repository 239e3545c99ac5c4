public import CollectorCore
import CollectorSystem
import Foundation

/// The status file a running collector keeps in its state directory (`status.json`, rewritten
/// every two seconds and at exit), read by `graph-collector status`.
public enum CollectorStatus {
    public static func path(state: String) -> String { "\(state)/status.json" }
    public static func deadLetterPath(state: String, sink: String) -> String {
        "\(state)/sinks/\(sink)/deadletter.ndjson"
    }

    /// Writes the status file (atomically, fsynced) on its own thread: the writer runs every two
    /// seconds and must not block Swift's cooperative pool with file I/O.
    actor Writer {
        private let executor = DedicatedThreadExecutor(name: "status-file")
        nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
        let path: String
        init(path: String) { self.path = path }

        func write(
            running: Bool, startedAt: Timestamp, sources: [String], streams: [SourceStreamStatus],
            sinks: [SinkStatistics]
        ) {
            CollectorStatus.write(
                to: path, running: running, startedAt: startedAt, sources: sources, streams: streams, sinks: sinks)
        }

        func close() { executor.shutdown() }
    }

    static func write(
        to path: String, running: Bool, startedAt: Timestamp, sources: [String], streams: [SourceStreamStatus],
        sinks: [SinkStatistics]
    ) {
        let now = Timestamp.now()
        let json: JSONValue = .object([
            ("updated_at", .string(Timestamp.now().iso8601())), ("started_at", .string(startedAt.iso8601())),
            ("pid", .number(String(ProcessInfo.processInfo.processIdentifier))), ("running", .bool(running)),
            ("sources", .array(sources.map { .string($0) })),
            (
                "streams",
                .array(
                    streams.map { s in
                        var members: [(String, JSONValue)] = [
                            ("source", .string(s.source)), ("stream", .string(s.stream)),
                            ("events_published", .number(String(s.eventsPublished))),
                            ("pending_windows", .number(String(s.pendingWindows))),
                            ("fields_left_out", .number(String(s.fieldsLeftOut))),
                            ("audited_windows", .number(String(s.auditedWindows))),
                            ("audit_shortfalls", .number(String(s.auditShortfalls))),
                            (
                                "provider_warnings",
                                .object(
                                    s.warningsByProvider.sorted { $0.key < $1.key }.map {
                                        ($0.key, .number(String($0.value)))
                                    })
                            ),
                        ]
                        if let t = s.lastPollAt {
                            members.append(("last_poll_at", .string(t.iso8601(fractionDigits: 3))))
                        }
                        if let r = s.lastPollResult { members.append(("last_poll_result", .string(r.rawValue))) }
                        if let u = s.unavailable { members.append(("unavailable", .string(u))) }
                        if let t = s.lastSuccessAt {
                            members.append(("last_success_at", .string(t.iso8601(fractionDigits: 3))))
                        }
                        if let w = s.watermark { members.append(("watermark", .string(w.iso8601(fractionDigits: 3)))) }
                        if let lag = s.watermarkLag(now: now) {
                            members.append(("watermark_lag_seconds", .number(String(Int(lag.rounded())))))
                        }
                        if let e = s.lastError { members.append(("last_error", .string(e))) }
                        return .object(members)
                    })
            ),
            (
                "sinks",
                .array(
                    sinks.map { s in
                        var members: [(String, JSONValue)] = [
                            ("name", .string(s.name)), ("required", .bool(s.required)),
                            ("queued", .number(String(s.queued))),
                            ("accepted", .number(String(s.accepted))), ("batches", .number(String(s.batches))),
                            ("retries", .number(String(s.retries))), ("rejected", .number(String(s.rejected))),
                            ("dead_lettered", .number(String(s.deadLettered))), ("dropped", .number(String(s.dropped))),
                            ("spooled", .number(String(s.spooled))), ("from_spool", .number(String(s.unspooled))),
                            ("undelivered", .number(String(s.undelivered))),
                        ]
                        if let e = s.lastError { members.append(("last_error", .string(e))) }
                        return .object(members)
                    })
            ),
        ])
        try? AtomicFile.write(Array((JSONWriter.string(json) + "\n").utf8), to: path, mode: 0o600, durable: false)
    }

    /// A readable table of a status file, with whether the collector is still running.
    public static func describe(_ json: JSONValue) -> String {
        var lines: [String] = []
        let pid = json["pid"]?.intValue ?? 0
        let alive = pid > 0 && kill(pid_t(pid), 0) == 0
        let running: Bool = {
            if case .bool(let b)? = json["running"] { return b }
            return false
        }()
        let updated = json["updated_at"]?.stringValue ?? "?"
        lines.append(
            running && alive
                ? "running (pid \(pid)), status of \(updated)"
                : "not running; last status \(updated)" + (running ? " (it did not stop cleanly)" : ""))
        lines.append(
            "sources: " + (json["sources"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "))
        let streams = json["streams"]?.arrayValue ?? []
        if !streams.isEmpty {
            lines.append(
                "stream                                        last poll             result    watermark lag  "
                    + "published  owed  provider warnings"
            )
            for s in streams {
                let name = "\(s["source"]?.stringValue ?? "?")/\(s["stream"]?.stringValue ?? "?")"
                let lag = s["watermark_lag_seconds"]?.intValue.map(Self.duration) ?? "-"
                let warnings = (s["provider_warnings"]?.objectMembers ?? []).map { "\($0.0) \($0.1.scalarText ?? "0")" }
                    .joined(separator: ", ")
                lines.append(
                    pad(name, 44) + "  " + pad(String((s["last_poll_at"]?.stringValue ?? "-").prefix(19)), 20) + "  "
                        + pad(s["last_poll_result"]?.stringValue ?? "-", 8) + lpad(lag, 14)
                        + lpad(s["events_published"]?.scalarText ?? "0", 11)
                        + lpad(s["pending_windows"]?.scalarText ?? "0", 6) + "  " + (warnings.isEmpty ? "-" : warnings))
                if let e = s["last_error"]?.stringValue { lines.append("    last error: " + String(e.prefix(200))) }
            }
        }
        lines.append(
            "sink                 queued   accepted  retries  rejected  dead-let.  dropped  undeliv.  spooled  from "
                + "spool  last error"
        )
        for s in json["sinks"]?.arrayValue ?? [] {
            func n(_ k: String) -> String { s[k]?.scalarText ?? "0" }
            lines.append(
                pad(s["name"]?.stringValue ?? "?", 18) + lpad(n("queued"), 9) + lpad(n("accepted"), 11)
                    + lpad(n("retries"), 9)
                    + lpad(n("rejected"), 10) + lpad(n("dead_lettered"), 11) + lpad(n("dropped"), 9)
                    + lpad(n("undelivered"), 10)
                    + lpad(n("spooled"), 9) + lpad(n("from_spool"), 12) + "  "
                    + String((s["last_error"]?.stringValue ?? "-").prefix(100)))
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ t: String, _ w: Int) -> String {
        t.count >= w ? t : t + String(repeating: " ", count: w - t.count)
    }
    static func lpad(_ t: String, _ w: Int) -> String {
        t.count >= w ? t : String(repeating: " ", count: w - t.count) + t
    }

    /// `93784` → `1d 2h 3m`, `75` → `1m 15s`.
    static func duration(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m \(s % 60)s" }
        if s < 86400 { return "\(s / 3600)h \(s % 3600 / 60)m" }
        return "\(s / 86400)d \(s % 86400 / 3600)h \(s % 3600 / 60)m"
    }
}
