/// Counters for one sink, as reported by ``EventPipeline/statistics()``.
public struct SinkStatistics: Sendable, Hashable {
    public var name: String
    public var required: Bool
    /// Events waiting in the sink's queue (including the batch being written).
    public var queued = 0
    /// The approximate JSON size of the queued events.
    public var queuedBytes = 0
    /// Bytes in the durable spool waiting for the sink.
    public var spoolBytes: Int64 = 0
    /// Events the sink accepted.
    public var accepted = 0
    /// Events the sink rejected permanently.
    public var rejected = 0
    /// Events left undelivered when the pipeline stopped.
    public var undelivered = 0
    /// Write attempts that failed with a retryable error.
    public var retries = 0
    /// Batches written.
    public var batches = 0
    /// Events dropped because the queue was full (`when_full: drop_newest`).
    public var dropped = 0
    /// Rejected events kept in the dead-letter store.
    public var deadLettered = 0
    /// Events written to the durable spool (acknowledged to sources, delivered later).
    public var spooled = 0
    /// Events delivered from the spool.
    public var unspooled = 0
    public var lastError: String?
    /// Since when the sink's writes have been failing (retryable); nil once one succeeds.
    public var failingSince: Timestamp?

    public init(name: String, required: Bool) {
        self.name = name
        self.required = required
    }
}

/// The pipeline is shutting down and takes no more events.
public struct PipelineClosedError: Error, Sendable, CustomStringConvertible {
    public var description: String { "the event pipeline is shutting down and accepts no more events" }
}
