import CNats

/// A failure of the NATS C client: its status, JetStream's error code when it sent one, and the
/// library's own account of what happened (read on the failing thread, as the library keeps it
/// per thread).
public struct NatsError: Error, Sendable, CustomStringConvertible {
    /// What was being done: "connecting to nats://127.0.0.1:4222", "creating stream ALERTS".
    public var operation: String
    /// The library's status text ("Timeout", "No Server Available").
    public var status: String
    /// JetStream's error code (10058: stream name in use with another configuration), or 0.
    public var code: Int
    /// The library's last error on this thread, when it adds something to `status`.
    public var detail: String?
    /// True when the server or the network may let a later attempt succeed.
    public var isTransient: Bool

    public init(operation: String, status: String, code: Int = 0, detail: String? = nil, isTransient: Bool = true) {
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = detail
        self.isTransient = isTransient
    }

    /// The error for `status`, with the library's last error text of this thread.
    init(_ operation: String, _ status: natsStatus, code: jsErrCode = jsErrCode(0)) {
        var last = NATS_OK
        let text = nats_GetLastError(&last).map { String(cString: $0) }
        let statusText = String(cString: natsStatus_GetText(status))
        self.init(
            operation: operation, status: statusText, code: Int(code.rawValue),
            detail: text.flatMap { $0.isEmpty || $0 == statusText ? nil : $0 },
            isTransient: NatsError.isTransient(status) && !NatsError.configurationCodes.contains(Int(code.rawValue)))
    }

    /// Statuses a retry can cure: the server is away, slow or has no responder yet (a stream
    /// electing its leader answers "no responders").
    static func isTransient(_ status: natsStatus) -> Bool {
        let transient = [
            NATS_IO_ERROR, NATS_TIMEOUT, NATS_NO_SERVER, NATS_CONNECTION_CLOSED, NATS_CONNECTION_DISCONNECTED,
            NATS_STALE_CONNECTION, NATS_NOT_YET_CONNECTED, NATS_NO_RESPONDERS, NATS_SLOW_CONSUMER, NATS_ERR,
        ]
        return transient.contains(status)
    }

    /// JetStream error codes no retry cures: the configuration or the server's setup must
    /// change. 10039/10076: JetStream not enabled (for the account); 10065: another stream takes
    /// some of the subjects; 10074: replicas above 1 on a server without a cluster; 10005/10023:
    /// more replicas than the cluster can place (insufficient resources).
    public static let configurationCodes: Set<Int> = [10005, 10023, 10039, 10065, 10074, 10076]

    public var description: String {
        var text = "\(operation): \(status)"
        if code != 0 { text += " (JetStream error \(code))" }
        if let detail { text += ": \(detail)" }
        return text
    }
}
