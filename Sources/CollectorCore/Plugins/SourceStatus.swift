import Synchronization

/// What a source says about one of its streams (for the Graph source: one endpoint of one
/// tenant), shown by `graph-collector status`, in `status.json` and on `/metrics`.
public struct SourceStreamStatus: Sendable, Equatable {
    /// How the last poll ended.
    public enum PollResult: String, Sendable {
        /// Everything asked for was answered.
        case complete
        /// What was answered is delivered, and windows are still owed (failing providers behind
        /// a 206 Partial Content; they are re-queried every poll).
        case partial
        /// The poll failed; it is tried again from the checkpoint.
        case failed
    }

    /// The source's configured name.
    public var source: String
    /// The stream within the source, e.g. `<tenant>/alerts_v2`.
    public var stream: String
    public var lastPollAt: Timestamp?
    public var lastPollResult: PollResult?
    /// When a poll last ended with ``PollResult/complete`` or ``PollResult/partial``.
    public var lastSuccessAt: Timestamp?
    /// Everything before this time is collected and acknowledged by every required sink.
    public var watermark: Timestamp?
    /// Events published since the collector started.
    public var eventsPublished: Int = 0
    /// Windows still owed by failing providers.
    public var pendingWindows: Int = 0
    /// Alert fields left out since the collector started because their value could not be read
    /// (a time outside 1678–2262, say). The alerts were delivered, their originals in `raw`.
    public var fieldsLeftOut: Int = 0
    /// Closed windows whose `$count` was compared with what was seen (the completeness audit),
    /// and how many of them fell short (and were collected again).
    public var auditedWindows: Int = 0
    public var auditShortfalls: Int = 0
    /// Set while the endpoint is unavailable (retired, refused, not found): what to do about it.
    public var unavailable: String?
    /// Warnings since the collector started, by who caused them (for Graph: the provider
    /// named in a 206's Warning header).
    public var warningsByProvider: [String: Int] = [:]
    public var lastError: String?

    public init(source: String, stream: String) {
        self.source = source
        self.stream = stream
    }

    /// How far the watermark is behind `now`, in seconds; nil before the first checkpoint.
    public func watermarkLag(now: Timestamp = .now()) -> Double? {
        watermark.map { Double(now.nanosecondsSinceEpoch - $0.nanosecondsSinceEpoch) / 1e9 }
    }
}

/// Where a source keeps its ``SourceStreamStatus`` current. The runtime gives each source one
/// (``SourceContext/status``) and reads it for the status file and the metrics endpoint; it is
/// safe to update from any task and costs a lock per update.
public final class SourceStatusBoard: Sendable {
    private let source: String
    private let streams = Mutex<[String: SourceStreamStatus]>([:])

    public init(source: String) { self.source = source }

    /// Changes one stream's status, creating it on first use.
    public func update(stream: String, _ change: (inout SourceStreamStatus) -> Void) {
        streams.withLock { all in
            var status = all[stream] ?? SourceStreamStatus(source: source, stream: stream)
            change(&status)
            all[stream] = status
        }
    }

    /// Every stream's status, ordered by stream name.
    public var snapshot: [SourceStreamStatus] {
        streams.withLock { all in all.values.sorted { $0.stream < $1.stream } }
    }
}
