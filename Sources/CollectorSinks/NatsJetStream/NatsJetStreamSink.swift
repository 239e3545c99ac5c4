public import CollectorCore
import CollectorSystem
public import EventFormats
public import Logging
public import NatsClient

/// `type: nats-jetstream`: publishes each event as one message to a JetStream stream, through
/// the official NATS C client.
///
/// A batch is accepted once the stream acknowledged every message of it; a refusal, a lost
/// connection or an acknowledgement that does not come within `ack_timeout` fails the batch as
/// retryable. Each message carries a `Nats-Msg-Id` made from the event (an alert's format, id
/// and last-update time; a digest of the other events), so when a batch is published again —
/// retried, or resent after the collector was killed before its checkpoint moved — the stream's
/// duplicate window drops what it already holds: each event is in the stream exactly once.
public actor NatsJetStreamSink: Sink {
    /// What the sink has done since it started.
    public struct Statistics: Sendable, Hashable {
        /// Messages the stream stored for the first time.
        public var stored = 0
        /// Messages the stream acknowledged as already held (a resend after a failure).
        public var duplicates = 0
        public var batches = 0
        public var retryableFailures = 0
        public var connections = 0
        public var lastError: String?
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let configuration: Configuration
    let settings: NatsSettings
    let encoder: any EventEncoding
    let logger: Logger
    let name: String
    private var connection: JetStreamConnection?
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration, context: SinkContext) {
        self.init(
            configuration: configuration, logger: context.logger, name: context.name,
            settings: configuration.settings(name: context.name, resolve: context.resolve))
    }

    public init(configuration: Configuration, logger: Logger, name: String = "nats-jetstream") {
        self.init(
            configuration: configuration, logger: logger, name: name,
            settings: configuration.settings(name: name, resolve: { $0 }))
    }

    private init(configuration: Configuration, logger: Logger, name: String, settings: NatsSettings) {
        self.configuration = configuration
        self.settings = settings
        self.encoder = configuration.formats.encoder
        self.logger = logger
        self.name = name
        self.executor = DedicatedThreadExecutor(name: "nats:\(name)")
    }

    /// Connects and creates or checks the stream. A server that cannot be reached is only
    /// logged (writes retry, the pipeline spools meanwhile); refused credentials, a TLS failure
    /// or a stream that takes other subjects stop the start with the reason.
    public func start() throws {
        let failure: NatsError
        do {
            _ = try connected()
            return
        } catch {
            failure = error
        }
        guard failure.isTransient else { throw failure }
        logger.warning(
            "NATS not reachable yet; publishing will retry", metadata: ["sink": "\(name)", "error": "\(failure)"])
    }

    public func write(_ batch: [Event]) async throws {
        let messages = messages(for: batch)
        let connection: JetStreamConnection
        do {
            connection = try connected()
        } catch {
            statistics.retryableFailures += 1
            statistics.lastError = error.description
            throw SinkError.retryable("sink '\(name)' cannot publish to JetStream", underlying: error)
        }
        if let oversized = messages.first(where: { JetStreamConnection.payloadSize(of: $0) > connection.maxPayload }) {
            throw SinkError.permanent(
                "an event of \(JetStreamConnection.payloadSize(of: oversized)) bytes with its header (\(oversized.id)) "
                    + "exceeds the server's max_payload of \(connection.maxPayload) bytes; raise max_payload in "
                    + "nats-server, then replay the dead letters")
        }
        let outcome = connection.publish(messages, ackTimeout: configuration.ackTimeout.duration)
        statistics.stored += outcome.acknowledged - outcome.duplicates
        statistics.duplicates += outcome.duplicates
        if outcome.duplicates > 0 {
            logger.notice(
                "the stream already held messages of this batch (a resend); its duplicate window dropped them",
                metadata: ["sink": "\(name)", "duplicates": "\(outcome.duplicates)", "messages": "\(outcome.messages)"])
        }
        guard outcome.isComplete else {
            statistics.retryableFailures += 1
            let reason =
                "JetStream acknowledged \(outcome.acknowledged) of \(outcome.messages) messages"
                + (outcome.firstError.map { ": \($0)" } ?? "")
            statistics.lastError = reason
            if outcome.refused { throw SinkError.permanent("sink '\(name)': \(reason)") }
            throw SinkError.retryable("sink '\(name)': \(reason)")
        }
        statistics.batches += 1
    }

    public func close() async throws {
        connection?.close()
        connection = nil
        executor.shutdown()
    }

    /// The open connection, or a new one with the stream checked.
    private func connected() throws(NatsError) -> JetStreamConnection {
        if let connection, !connection.isClosed { return connection }
        connection?.close()
        connection = nil
        let fresh = try JetStreamConnection(
            settings: settings, maxPending: configuration.maxPending, ackTimeout: configuration.ackTimeout.duration)
        do {
            try checkStream(on: fresh)
        } catch {
            fresh.close()
            throw error
        }
        statistics.connections += 1
        logger.info(
            "connected to NATS",
            metadata: [
                "sink": "\(name)", "server": "\(fresh.connectedURL ?? "?")", "subject": "\(configuration.subject)",
            ])
        connection = fresh
        return fresh
    }

    private func checkStream(on connection: JetStreamConnection) throws(NatsError) {
        if let stream = configuration.stream {
            switch try connection.ensureStream(stream.specification) {
            case .created:
                logger.info("created stream", metadata: ["sink": "\(name)", "stream": "\(stream.name)"])
            case .matches: break
            case .differs(let differences):
                logger.warning(
                    "the stream exists with other settings; using it as it is",
                    metadata: ["sink": "\(name)", "stream": "\(stream.name)", "differences": "\(differences)"])
            }
            return
        }
        guard let streams = try? connection.streamSubjects() else { return }
        let pattern = configuration.subject.pattern
        if !streams.values.contains(where: { $0.contains { NatsSubject.filter($0, covers: pattern) } }) {
            logger.warning(
                "no stream takes this sink's subject; publishes will fail until one does (or configure stream:)",
                metadata: [
                    "sink": "\(name)", "subject": "\(configuration.subject)", "streams": "\(streams.keys.sorted())",
                ])
        }
    }

    // MARK: Messages

    /// The messages of a batch: subject, encoded event and `Nats-Msg-Id`, as ``write(_:)`` sends them.
    public nonisolated func messages(for batch: [Event]) -> [JetStreamConnection.Message] {
        batch.map { event in
            var data: [UInt8] = []
            encoder.encode(event, into: &data)
            return .init(
                subject: configuration.subject.render(event), data: data,
                id: Self.messageID(for: event, format: configuration.formats.name))
        }
    }

    /// A stable id of the event in a format: the same on every resend, also after a restart.
    /// An alert's is readable (`json:alert:<tenant>:<id>@<last update>`): a new version of the
    /// alert is a new message. Other events are named by a digest of their JSON form.
    public static func messageID(for event: Event, format: EventFormatName) -> String {
        if case .alert(let alert) = event {
            return "\(format.rawValue):alert:\(alert.tenantId ?? "-"):\(alert.deduplicationKey)"
        }
        var json: [UInt8] = []
        JSONEventEncoder().encode(event, into: &json)
        return "\(format.rawValue):\(event.eventType):" + Digest.hex(Array(Digest.sha256(json).prefix(16)))
    }
}
