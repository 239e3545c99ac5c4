public import Logging
public import ServiceLifecycle

/// Carries events from sources to every sink: one bounded queue and worker per sink (fan-out),
/// batching per sink by events, bytes and time, retries with backoff, and receipts back to the
/// source once every required sink has accepted a batch.
///
/// It is a `Service`: run it in a `ServiceGroup` before the sources, so that on SIGTERM the
/// sources stop first and the pipeline then drains its queues, flushes and closes the sinks.
/// What a full sink queue does.
public enum OverflowPolicy: String, Sendable, Hashable, Decodable, CaseIterable {
    /// Publishers wait (backpressure): nothing is lost. The default.
    case block
    /// New events are dropped for this sink and counted; only for sinks with `required: false`.
    case dropNewest = "drop_newest"
}

public final class EventPipeline: EventPublisher, Service {
    /// A sink with its pipeline settings, as built from configuration.
    public struct SinkSlot: Sendable {
        public var name: String
        public var sink: any Sink
        /// Required sinks gate receipts: a source's checkpoint waits for them.
        public var required: Bool
        public var batch: BatchPolicy
        public var retry: RetryPolicy
        /// Most events queued for this sink before publishers wait.
        public var queueCapacity: Int
        /// Most bytes (the events' approximate JSON size) queued for this sink before publishers
        /// wait: with large alerts this, not the event count, bounds memory.
        public var queueMaxBytes: Int
        /// How often buffered writes are flushed while the sink is idle.
        public var flushInterval: Duration
        /// What happens when the queue is full: publishers wait, or (for a best-effort sink that
        /// is not required) the new events are dropped for this sink and counted.
        public var whenFull: OverflowPolicy
        /// Where events the sink rejects permanently are kept, with the reason.
        public var deadLetters: DeadLetterStore?
        /// The sink's durable spool (opened), for events that do not fit its queue.
        public var spool: Spool?

        public init(
            name: String, sink: any Sink, required: Bool = true, batch: BatchPolicy = BatchPolicy(),
            retry: RetryPolicy = RetryPolicy(), queueCapacity: Int = 10_000, flushInterval: Duration = .seconds(1),
            whenFull: OverflowPolicy = .block, deadLetters: DeadLetterStore? = nil, spool: Spool? = nil,
            queueMaxBytes: Int = 16 << 20
        ) {
            self.queueMaxBytes = queueMaxBytes
            self.spool = spool
            self.whenFull = whenFull
            self.deadLetters = deadLetters
            self.name = name
            self.sink = sink
            self.required = required
            self.batch = batch
            self.retry = retry
            self.queueCapacity = queueCapacity
            self.flushInterval = flushInterval
        }
    }

    private let workers: [SinkWorker]
    private let requiredNames: Set<String>
    private let drainTimeout: Duration
    private let logger: Logger

    /// - Parameters:
    ///   - sinks: each sink with its name, batching, retry and queue settings.
    ///   - drainTimeout: on shutdown, how long sinks may keep retrying queued events.
    ///   - logger: where the pipeline reports retries, rejections and shutdown.
    public init(sinks: [SinkSlot], drainTimeout: Duration = .seconds(30), logger: Logger) {
        self.workers = sinks.map { slot in
            SinkWorker(
                settings: .init(
                    name: slot.name, required: slot.required, batch: slot.batch, retry: slot.retry,
                    queueCapacity: max(1, slot.queueCapacity), queueMaxBytes: max(1, slot.queueMaxBytes), flushInterval: slot.flushInterval,
                    drainTimeout: drainTimeout, whenFull: slot.required ? .block : slot.whenFull, deadLetters: slot.deadLetters,
                    spool: slot.spool),
                sink: slot.sink, logger: logger)
        }
        self.requiredNames = Set(sinks.filter(\.required).map(\.name))
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    public func publish(_ events: [Event]) async throws -> DeliveryReceipt {
        guard !events.isEmpty else { return .empty }
        let state = ReceiptState(requiredSinks: requiredNames, eventCount: events.count)
        for worker in workers {
            try await worker.enqueue(events, receipt: state)
        }
        return DeliveryReceipt(state: state)
    }

    /// Runs every sink's worker until ``shutdown()`` (or graceful shutdown of the service group)
    /// and the queues have drained; then the sinks are flushed and closed.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for worker in workers {
                        group.addTask { await worker.run() }
                    }
                }
            } onGracefulShutdown: {
                Task { await self.shutdown() }
            }
        } onCancel: {
            // Cancelled without a graceful shutdown: still drain within the deadline.
            Task { await self.shutdown() }
        }
    }

    /// Stops taking events and lets the workers drain, flush and close their sinks.
    public func shutdown() async {
        for worker in workers { await worker.beginClosing(drainTimeout: drainTimeout) }
    }

    /// Per-sink counters.
    public func statistics() async -> [SinkStatistics] {
        var result: [SinkStatistics] = []
        for worker in workers { result.append(await worker.statistics) }
        return result
    }
}
