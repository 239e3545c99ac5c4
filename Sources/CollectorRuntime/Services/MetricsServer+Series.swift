import CollectorCore

/// The series `/metrics` reports: each name, type, help text and value, declared once here.
extension MetricsServer {
    /// Per sink: name, type, help, value.
    static let sinkSeries: [(String, String, String, @Sendable (SinkStatistics) -> Int)] = [
        ("queued_events", "gauge", "Events waiting in the sink's queue.", { $0.queued }),
        ("queued_bytes", "gauge", "The approximate JSON size of the events in the sink's queue.", { $0.queuedBytes }),
        ("spool_bytes", "gauge", "Bytes in the sink's durable spool, waiting for the sink.", { Int($0.spoolBytes) }),
        ("accepted_events_total", "counter", "Events the sink accepted.", { $0.accepted }),
        ("batches_total", "counter", "Batches the sink accepted.", { $0.batches }),
        ("retries_total", "counter", "Writes that failed with a retryable error.", { $0.retries }),
        ("rejected_events_total", "counter", "Events the sink rejected permanently.", { $0.rejected }),
        (
            "dead_lettered_events_total", "counter", "Rejected events kept in the dead-letter file.",
            { $0.deadLettered }
        ),
        (
            "dropped_events_total", "counter", "Events a best-effort sink dropped because its queue was full.",
            { $0.dropped }
        ),
        ("undelivered_events_total", "counter", "Events left undelivered at shutdown.", { $0.undelivered }),
        ("spooled_events_total", "counter", "Events written to the durable spool.", { $0.spooled }),
        ("unspooled_events_total", "counter", "Events delivered from the durable spool.", { $0.unspooled }),
    ]

    /// Per stream: name, type, help, value (nil: not reported for this stream).
    static func sourceSeries(now: Timestamp) -> [(String, String, String, (SourceStreamStatus) -> Double?)] {
        [
            (
                "last_poll_time_seconds", "gauge", "When the stream was last polled (Unix time).",
                { s in s.lastPollAt.map { Double($0.nanosecondsSinceEpoch) / 1e9 } }
            ),
            (
                "last_success_time_seconds", "gauge",
                "When a poll of the stream last succeeded, fully or partly (Unix time).",
                { s in s.lastSuccessAt.map { Double($0.nanosecondsSinceEpoch) / 1e9 } }
            ),
            (
                "watermark_lag_seconds", "gauge", "How far the stream's checkpoint is behind now.",
                { s in s.watermarkLag(now: now) }
            ),
            (
                "last_poll_failed", "gauge", "1 if the stream's last poll failed.",
                { s in s.lastPollResult.map { r -> Double in r == .failed ? 1 : 0 } }
            ),
            ("events_published_total", "counter", "Events the stream published.", { s in Double(s.eventsPublished) }),
            ("pending_windows", "gauge", "Windows failing providers still owe.", { s in Double(s.pendingWindows) }),
            (
                "audited_windows_total", "counter", "Closed windows whose $count was compared with what was seen.",
                { s in Double(s.auditedWindows) }
            ),
            (
                "audit_shortfalls_total", "counter",
                "Audited windows where Graph counted more alerts than were seen (collected again).",
                { s in Double(s.auditShortfalls) }
            ),
            (
                "unavailable", "gauge", "1 while the endpoint is unavailable (retired, refused, not found).",
                { s in s.unavailable == nil ? 0 : 1 }
            ),
            (
                "fields_left_out_total", "counter", "Alert fields left out because their value could not be read.",
                { s in Double(s.fieldsLeftOut) }
            ),
        ]
    }
}
