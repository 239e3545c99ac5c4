/// A destination for events: a file, a syslog receiver, a webhook, your own system.
///
/// A sink is small on purpose. The pipeline in front of it (``EventPipeline``) owns queues,
/// batching, retries with backoff and acknowledgements; a sink only turns a batch into I/O.
/// Like swift-log's `LogHandler`, it is a protocol you implement, and like an OpenTelemetry
/// exporter it is batch-oriented with explicit flush and close.
///
/// The contract:
/// - ``write(_:)`` is called with batches in order, never concurrently with itself, ``flush()``
///   or ``close()``. When it returns, the sink has *accepted* the batch: the pipeline may
///   acknowledge these events to the source, which moves its checkpoint past them. Accept only
///   what you have written as durably as your configuration promises.
/// - Throw ``SinkError/retryable(_:underlying:)`` when trying again later may succeed (a
///   receiver is down, a disk is full); the pipeline retries the same batch with backoff.
///   Throw ``SinkError/permanent(_:underlying:)`` when it never will (the receiver rejects the
///   content); the pipeline reports the batch and moves on. Any other error counts as retryable.
/// - A batch that failed with a retryable error may be written again: a sink must not leave
///   half of a batch behind in a form that would corrupt its output (torn lines, broken frames).
/// - ``flush()`` makes everything accepted so far visible and durable; ``close()`` is called
///   once, after the last write and flush, to release files, sockets and processes.
///
/// Sinks are usually actors. Blocking calls (file and socket I/O, C libraries) must not run on
/// Swift's cooperative pool: give the actor a ``DedicatedThreadExecutor``.
public protocol Sink: Sendable {
    /// Delivers one batch, in order. See the protocol documentation for what returning means.
    func write(_ batch: [Event]) async throws
    /// Makes everything accepted so far visible and durable.
    func flush() async throws
    /// Releases resources. Called once; no call follows it.
    func close() async throws
    /// Reopens files by name, on SIGHUP: logrotate (without `copytruncate`) has moved them and
    /// the next write must create new ones. Called between writes, after a flush. The default
    /// does nothing (sinks without files).
    func reopen() async throws
}

extension Sink {
    public func flush() async throws {}
    public func close() async throws {}
    public func reopen() async throws {}
}

/// Why a sink could not take a batch, and whether trying again can help.
public enum SinkError: Error, Sendable, CustomStringConvertible {
    /// A passing failure: the pipeline retries the same batch with backoff.
    case retryable(String, underlying: (any Error & Sendable)? = nil)
    /// The batch will never be accepted: the pipeline reports it and moves on.
    case permanent(String, underlying: (any Error & Sendable)? = nil)

    public var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .retryable(let message, let underlying):
            return "retryable: \(message)" + (underlying.map { " (\($0))" } ?? "")
        case .permanent(let message, let underlying):
            return "permanent: \(message)" + (underlying.map { " (\($0))" } ?? "")
        }
    }
}
