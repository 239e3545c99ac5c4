import CNats

/// One connection to NATS and its JetStream context. The client reconnects by itself, to any of
/// the servers, for as long as the connection is open. Every call blocks: make them from a
/// dedicated thread (a sink's `DedicatedThreadExecutor`), never from Swift's cooperative pool.
public final class JetStreamConnection: @unchecked Sendable {
    /// A message to publish: its subject, body and `Nats-Msg-Id`.
    public struct Message: Sendable {
        public var subject: String
        public var data: [UInt8]
        public var id: String

        public init(subject: String, data: [UInt8], id: String) {
            self.subject = subject
            self.data = data
            self.id = id
        }
    }

    /// What JetStream answered for one batch.
    public struct PublishOutcome: Sendable, Equatable {
        public var messages: Int
        /// Stored by the stream, now or before (see `duplicates`).
        public var acknowledged: Int
        /// Of the acknowledged, those the stream already held: its duplicate window knew the id.
        public var duplicates: Int
        /// The first reason a message was refused or went unanswered.
        public var firstError: String?
        /// True when the server refused a message for what it is (too large for it or for the
        /// stream): publishing it again will not help.
        public var refused = false

        /// True when the stream holds every message of the batch.
        public var isComplete: Bool { acknowledged == messages }
    }

    public let settings: NatsSettings
    let connection: OpaquePointer
    let context: OpaquePointer
    private let acknowledgements: PublishAcknowledgements
    private var closed = false
    /// js_PublishAsyncGetPendingList (3.4.1) dereferences the pending map, which the first
    /// asynchronous publish creates: never ask before one.
    private var hasPublished = false

    /// Connects to the first server that answers, or throws why none did.
    public init(settings: NatsSettings, maxPending: Int, ackTimeout: Duration) throws(NatsError) {
        self.settings = settings
        let options = try settings.makeOptions()
        defer { natsOptions_Destroy(options) }
        var connection: OpaquePointer?
        try check(
            "connecting to \(settings.servers.joined(separator: ", "))", natsConnection_Connect(&connection, options))
        guard let connection else { throw NatsError(operation: "connecting", status: "no connection") }
        let acknowledgements = PublishAcknowledgements()
        var context: OpaquePointer?
        let status = cnats_jetstream(
            &context, connection, Int64(maxPending), ackTimeout.milliseconds, settings.requestTimeout.milliseconds,
            // Retained for good (a few bytes a connection): a callback still running on the
            // client's thread after close() gave up waiting must not find it freed.
            PublishAcknowledgements.handler, Unmanaged.passRetained(acknowledgements).toOpaque())
        guard status == NATS_OK, let context else {
            let error = NatsError("opening JetStream", status)
            natsConnection_Destroy(connection)
            throw error
        }
        self.connection = connection
        self.context = context
        self.acknowledgements = acknowledgements
    }

    deinit { close() }

    /// The server the connection is on now, or nil while it reconnects.
    public var connectedURL: String? {
        var buffer = [CChar](repeating: 0, count: 512)
        guard natsConnection_GetConnectedUrl(connection, &buffer, buffer.count) == NATS_OK, buffer[0] != 0 else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True once the client has given up (the servers refused its credentials): open a new one.
    public var isClosed: Bool { closed || natsConnection_IsClosed(connection) }

    /// The largest message (headers and body) the server takes.
    public var maxPayload: Int { Int(natsConnection_GetMaxPayload(connection)) }

    /// The bytes a message takes against ``maxPayload``: its body and its `Nats-Msg-Id` header
    /// block (`NATS/1.0\r\nNats-Msg-Id: <id>\r\n\r\n`).
    public static func payloadSize(of message: Message) -> Int {
        message.data.count + 29 + message.id.utf8.count
    }

    /// Publishes a batch with at most the context's `maxPending` unacknowledged at a time, then
    /// waits up to `ackTimeout` for the rest. What was not acknowledged by then is forgotten by
    /// the client; publishing the batch again is safe, as the stream removes the ids it holds.
    public func publish(_ messages: [Message], ackTimeout: Duration) -> PublishOutcome {
        acknowledgements.begin(Set(messages.map(\.id)))
        var sendError: NatsError?
        for message in messages {
            let status = message.data.withUnsafeBytes { body in
                cnats_publish_async(context, message.subject, body.baseAddress, Int32(body.count), message.id)
            }
            if status != NATS_OK {
                sendError = NatsError("publishing to \(message.subject)", status)
                if status == NATS_MAX_PAYLOAD { sendError?.isTransient = false }
                break
            }
            hasPublished = true
        }
        if hasPublished && cnats_publish_complete(context, ackTimeout.milliseconds) != NATS_OK {
            _ = cnats_drop_pending(context)
        }
        let answers = acknowledgements.finish()
        return PublishOutcome(
            messages: Set(messages.map(\.id)).count, acknowledged: answers.acknowledged,
            duplicates: answers.duplicates, firstError: sendError?.description ?? answers.firstError,
            refused: sendError.map { !$0.isTransient } ?? answers.refused)
    }

    /// Waits a moment for what is in flight, then closes the connection. Called once; later calls
    /// do nothing.
    public func close() {
        guard !closed else { return }
        closed = true
        // jsCtx_Destroy drops what is still pending (asking for the list first would read the
        // pending map, which is NULL until a publish succeeded).
        if hasPublished { _ = cnats_publish_complete(context, 2_000) }
        jsCtx_Destroy(context)
        natsConnection_Close(connection)
        natsConnection_Destroy(connection)
    }
}
