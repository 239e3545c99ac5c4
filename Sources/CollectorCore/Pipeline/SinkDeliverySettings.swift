/// How the pipeline feeds one sink: whether it gates checkpoints, batching, retries, the queue's
/// bounds and what happens when it is full. Every sink entry in a configuration takes these keys;
/// the defaults are declared here once and feed decoding, the pipeline and the `plugins` listing.
public struct SinkDeliverySettings: Sendable, Hashable, Decodable {
    /// Required sinks gate receipts: a source's checkpoint waits for them.
    public var required = true
    public var batch = BatchPolicy()
    public var retry = RetryPolicy()
    /// Most events queued for this sink before publishers wait.
    public var queueCapacity = 10_000
    /// Most bytes (the events' approximate JSON size) queued before publishers wait: with large
    /// alerts this, not the event count, bounds memory.
    public var queueMaxSize: ByteSize = .mebibytes(16)
    /// How often buffered writes are flushed while the sink is idle.
    public var flushInterval: ConfigDuration = .seconds(1)
    /// What a full queue does: publishers wait, or (only for a sink that is not required) the
    /// new events are dropped for this sink and counted.
    public var whenFull: OverflowPolicy = .block

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case required, batch, retry
        case queueCapacity = "queue_capacity"
        case queueMaxSize = "queue_max_size"
        case flushInterval = "flush_interval"
        case whenFull = "when_full"
    }

    /// The configuration keys these settings take.
    public static var keys: [String] { CodingKeys.allCases.map(\.stringValue) }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SinkDeliverySettings()
        required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? d.required
        batch = try c.decodeIfPresent(BatchPolicy.self, forKey: .batch) ?? d.batch
        retry = try c.decodeIfPresent(RetryPolicy.self, forKey: .retry) ?? d.retry
        queueCapacity = try c.decodeIfPresent(Int.self, forKey: .queueCapacity) ?? d.queueCapacity
        queueMaxSize = try c.decodeIfPresent(ByteSize.self, forKey: .queueMaxSize) ?? d.queueMaxSize
        guard queueMaxSize.bytes >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .queueMaxSize, in: c, debugDescription: "must be at least 1 byte")
        }
        flushInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .flushInterval) ?? d.flushInterval
        guard queueCapacity >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .queueCapacity, in: c, debugDescription: "must be at least 1")
        }
        whenFull = try c.decodeIfPresent(OverflowPolicy.self, forKey: .whenFull) ?? d.whenFull
        if whenFull == .dropNewest && required {
            throw DecodingError.dataCorruptedError(
                forKey: .whenFull, in: c, debugDescription: Self.dropNeedsOptionalSink)
        }
    }

    static let dropNeedsOptionalSink =
        "drop_newest loses events for this sink, so it needs 'required: false' "
        + "(a required sink gates checkpoints and never drops)"

    /// Every key with its default, as `plugins` lists them: `batch.max_events (500)`, ….
    public static var defaultsListing: [String] {
        let d = SinkDeliverySettings()
        return [
            "required (\(d.required))",
            "batch.max_events (\(d.batch.maxEvents))", "batch.max_bytes (\(d.batch.maxBytes))",
            "batch.max_delay (\(d.batch.maxDelay))",
            "retry.initial_delay (\(d.retry.initialDelay))", "retry.max_delay (\(d.retry.maxDelay))",
            "retry.multiplier (\(d.retry.multiplier.formatted))",
            "queue_capacity (\(d.queueCapacity))", "queue_max_size (\(d.queueMaxSize))",
            "flush_interval (\(d.flushInterval))", "when_full (\(d.whenFull.rawValue))",
        ]
    }
}

extension Double {
    fileprivate var formatted: String { self == rounded() ? "\(Int(self))" : "\(self)" }
}
