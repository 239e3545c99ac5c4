public import Logging
public import ServiceLifecycle
import Synchronization

/// What a full sink queue does.
public enum OverflowPolicy: String, Sendable, Hashable, Decodable, CaseIterable {
    /// Publishers wait (backpressure): nothing is lost. The default.
    case block
    /// New events are dropped for this sink and counted; only for sinks with `required: false`.
    case dropNewest = "drop_newest"
}

/// Carries events from sources to every sink: one bounded queue and worker per sink (fan-out),
/// batching per sink by events, bytes and time, retries with backoff, and receipts back to the
/// source once every required sink has accepted a batch.
///
/// It is a `Service`: run it in a `ServiceGroup` before the sources, so that on SIGTERM the
/// sources stop first and the pipeline then drains its queues, flushes and closes the sinks.
public final class EventPipeline: EventPublisher, Service {
    /// A sink with its pipeline settings, as built from configuration.
    public struct SinkSlot: Sendable {
        public var name: String
        public var sink: any Sink
        public var settings: SinkDeliverySettings
        /// Where events the sink rejects permanently are kept, with the reason.
        package var deadLetters: DeadLetterStore?
        /// The sink's durable spool (opened), for events that do not fit its queue.
        package var spool: Spool?

        public init(name: String, sink: any Sink, settings: SinkDeliverySettings) {
            self.init(name: name, sink: sink, settings: settings, deadLetters: nil, spool: nil)
        }

        /// A slot with a dead-letter store and a spool (the runtime opens them under the state
        /// directory).
        package init(
            name: String, sink: any Sink, settings: SinkDeliverySettings, deadLetters: DeadLetterStore?,
            spool: Spool?
        ) {
            self.name = name
            self.sink = sink
            self.settings = settings
            self.deadLetters = deadLetters
            self.spool = spool
        }

        /// A slot with some settings given and the rest at their defaults (for tests).
        package init(
            name: String, sink: any Sink, required: Bool? = nil, batch: BatchPolicy? = nil, retry: RetryPolicy? = nil,
            queueCapacity: Int? = nil, flushInterval: Duration? = nil, whenFull: OverflowPolicy? = nil,
            deadLetters: DeadLetterStore? = nil, spool: Spool? = nil, queueMaxBytes: Int? = nil
        ) {
            var settings = SinkDeliverySettings()
            if let required { settings.required = required }
            if let batch { settings.batch = batch }
            if let retry { settings.retry = retry }
            if let queueCapacity { settings.queueCapacity = queueCapacity }
            if let flushInterval { settings.flushInterval = ConfigDuration(flushInterval) }
            if let whenFull { settings.whenFull = whenFull }
            if let queueMaxBytes { settings.queueMaxSize = ByteSize(bytes: Int64(queueMaxBytes)) }
            self.init(name: name, sink: sink, settings: settings, deadLetters: deadLetters, spool: spool)
        }
    }

    /// The sinks being fed now, in order, and which of them are required.
    struct Roster {
        var workers: [(name: String, worker: any SinkFeeding)] = []
        var required: Set<String> = []
        var closed = false
    }

    let roster: Mutex<Roster>
    let gate = PublishGate()
    /// Workers to run: those of the start, then those a reconfiguration adds.
    let starts: AsyncStream<any SinkFeeding>
    let startsContinuation: AsyncStream<any SinkFeeding>.Continuation
    /// Builds a worker on the pipeline's clock.
    let makeWorker: @Sendable (SinkSlot) -> any SinkFeeding
    let drainTimeout: Duration
    let logger: Logger

    /// - Parameters:
    ///   - sinks: each sink with its name, batching, retry and queue settings.
    ///   - drainTimeout: on shutdown, how long sinks may keep retrying queued events.
    ///   - logger: where the pipeline reports retries, rejections and shutdown.
    public convenience init(sinks: [SinkSlot], drainTimeout: Duration = .seconds(30), logger: Logger) {
        self.init(sinks: sinks, drainTimeout: drainTimeout, clock: ContinuousClock(), logger: logger)
    }

    /// A pipeline whose batching, flushing and retry delays follow `clock` (tests pass a manual one).
    package init<C: Clock>(sinks: [SinkSlot], drainTimeout: Duration, clock: C, logger: Logger)
    where C.Duration == Duration {
        makeWorker = { SinkWorker(slot: $0, drainTimeout: drainTimeout, clock: clock, logger: logger) }
        (starts, startsContinuation) = AsyncStream.makeStream(of: (any SinkFeeding).self)
        var roster = Roster()
        for slot in sinks {
            let worker = makeWorker(slot)
            roster.workers.append((slot.name, worker))
            if slot.settings.required { roster.required.insert(slot.name) }
            startsContinuation.yield(worker)
        }
        self.roster = Mutex(roster)
        self.drainTimeout = drainTimeout
        self.logger = logger
    }

    public func publish(_ events: [Event]) async throws -> DeliveryReceipt {
        try await publish(events, lane: .regular)
    }

    public func publish(_ events: [Event], lane: PublishLane) async throws -> DeliveryReceipt {
        guard !events.isEmpty else { return .empty }
        await gate.enterShared()
        let (workers, required) = roster.withLock { ($0.workers, $0.required) }
        let state = ReceiptState(requiredSinks: required, eventCount: events.count)
        do {
            for (_, worker) in workers {
                try await worker.enqueue(events, receipt: state, lane: lane)
            }
        } catch {
            await gate.leaveShared()
            throw error
        }
        await gate.leaveShared()
        return DeliveryReceipt(state: state)
    }

    /// Waits until every sink's queue could take the events at once (see
    /// ``EventPublisher/waitForRoom(publications:events:bytes:lane:)``); sinks that spool or drop
    /// when full never make it wait.
    public func waitForRoom(publications count: Int, events: Int, bytes: Int, lane: PublishLane) async {
        let workers = roster.withLock { $0.workers }
        for (_, worker) in workers {
            await worker.waitForRoom(publications: count, events: events, bytes: bytes, lane: lane)
        }
    }

    /// Runs every sink's worker (and those added later) until ``shutdown()`` (or graceful
    /// shutdown of the service group) and the queues have drained; then the sinks are flushed
    /// and closed.
    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    for await worker in starts {
                        group.addTask { await worker.run() }
                    }
                }
            } onGracefulShutdown: {
                Task { await self.shutdown() }
            }
        } onCancel: {
            // Cancelled without a graceful shutdown: still drain within the deadline. Closed at
            // once, so no reconfiguration adds a worker the cancelled loop would never start.
            roster.withLock { $0.closed = true }
            Task { await self.shutdown() }
        }
    }

    /// Stops taking events and lets the workers drain, flush and close their sinks.
    public func shutdown() async {
        let workers = roster.withLock { roster in
            roster.closed = true
            return roster.workers
        }
        for (_, worker) in workers { await worker.beginClosing(forReload: false) }
        startsContinuation.finish()
    }

    /// Has every sink flush and reopen its files between two writes (SIGHUP, after logrotate).
    public func reopenSinks() async {
        for (_, worker) in roster.withLock({ $0.workers }) { await worker.requestReopen() }
    }

    /// Per-sink counters.
    public func statistics() async -> [SinkStatistics] {
        var result: [SinkStatistics] = []
        for (_, worker) in roster.withLock({ $0.workers }) { result.append(await worker.statistics) }
        return result
    }
}
