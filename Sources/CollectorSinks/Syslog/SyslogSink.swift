public import CollectorCore
import CollectorSystem
import CurlTransport
import EventFormats
public import Logging

/// `type: syslog`: sends events to a syslog receiver (QRadar, rsyslog, syslog-ng, …) as IBM
/// LEEF 1.0/2.0 or JSON, behind an RFC 5424, QRadar-style minimal RFC 5424 or RFC 3164 header,
/// over UDP, TCP or TLS with octet-counting (RFC 5425/6587) or LF framing.
///
/// Delivery: a batch is accepted once every byte of it is in the kernel's send buffer of a
/// connection that was open when the batch began. Before each batch the sink checks whether the
/// receiver closed the connection; if it did, it reconnects (primary first, then the failover
/// targets in order) and sends again the batches it sent within `resend_window` (at least the
/// last one) before the new one: plain syslog has no application acknowledgement, and a
/// receiver that went away may not have read what its kernel accepted. A send that fails drops the
/// connection and throws a retryable error, so the pipeline retries the whole batch with backoff;
/// a frame is never continued on another connection. Over UDP nothing can be confirmed.
public actor SyslogSink: Sink {
    /// What the sink has done since it started.
    public struct Statistics: Sendable, Hashable {
        public var messagesSent = 0
        public var bytesSent = 0
        /// Events cut to fit `max_message_size`.
        public var truncatedEvents = 0
        public var connects = 0
        /// Connections found closed by the receiver, or broken by a failed send.
        public var connectionsLost = 0
        /// Batches sent again after the receiver closed the connection.
        public var batchesResent = 0
        /// Messages in those batches (duplicates the receiver may see).
        public var messagesResent = 0
        public var lastError: String?
    }

    private enum Connection {
        case none
        case stream(CurlStream, target: Int, since: ContinuousClock.Instant)
        case datagram(UDPSocket, target: Int)
    }

    private let executor: DedicatedThreadExecutor
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public let configuration: Configuration
    let logger: Logger
    let name: String
    let encoder: LEEFEncoder
    let cefEncoder: CEFEncoder
    private var connection: Connection = .none
    /// Batches recently sent on the current stream, for resending after the receiver went away.
    private struct SentBatch {
        var frames: [UInt8]
        var count: Int
        var sentAt: ContinuousClock.Instant
    }
    private var recent: [SentBatch] = []
    private var recentBytes = 0
    /// A frame buffer to build the next batch in (see ``write(_:)``).
    private var spareFrames: [UInt8] = []
    private var resendPending: [SentBatch] = []
    /// The UDP target in use; moves on when one refuses.
    private var udpTarget = 0
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration, logger: Logger, name: String = "syslog") {
        self.configuration = configuration
        self.logger = logger
        self.name = name
        self.encoder = LEEFEncoder(format: configuration.leef)
        self.cefEncoder = CEFEncoder(format: configuration.formats.cef)
        self.executor = DedicatedThreadExecutor(name: "syslog:\(name)")
    }

    // MARK: Encoding

    /// The syslog message (header and payload, no framing) for one event, and whether it was cut;
    /// nil when its LEEF header and essential attributes alone exceed `max_message_size`.
    public nonisolated func message(for event: Event, at time: Timestamp = .now()) -> (bytes: [UInt8], truncated: Bool)?
    {
        var bytes: [UInt8] = []
        guard let truncated = appendMessage(for: event, stamp: configuration.header.stamp(at: time), to: &bytes)
        else { return nil }
        return (bytes, truncated)
    }

    /// Appends one event's message (header and payload) to `out` and says whether it was cut;
    /// nil, with `out` unchanged, when it cannot fit in `max_message_size`.
    nonisolated func appendMessage(for event: Event, stamp: [UInt8], to out: inout [UInt8]) -> Bool? {
        let start = out.count
        configuration.header.append(for: event, stamp: stamp, to: &out)
        let room = configuration.maxMessageSize - (out.count - start)
        let truncated: Int?
        switch configuration.format {
        case .leef: truncated = encoder.encode(event, maxBytes: room, appendingTo: &out)
        case .cef: truncated = cefEncoder.encode(event, maxBytes: room, appendingTo: &out)
        case .json, .ocsf, .ecs: truncated = appendJSON(for: event, room: room, to: &out)
        }
        if truncated == nil { out.removeSubrange(start...) }
        return truncated.map { $0 > 0 }
    }

    /// The JSON formats' payload; too long, it leaves out the raw Graph document, then is cut as
    /// a last resort. Returns 1 when it was shortened, else 0.
    private nonisolated func appendJSON(for event: Event, room: Int, to out: inout [UInt8]) -> Int {
        var writer = JSONWriter(reservingCapacity: 2048)
        writer.write(jsonDocument(for: event, original: true))
        if writer.bytes.count <= room {
            out.append(contentsOf: writer.bytes)
            return 0
        }
        writer = JSONWriter(reservingCapacity: 2048)
        writer.write(jsonDocument(for: event, original: false))
        var payload = writer.bytes
        if payload.count > room {
            var end = max(0, room)
            while end > 0 && end < payload.count && (payload[end] & 0xC0) == 0x80 { end -= 1 }
            payload = Array(payload[0..<end])
        }
        out.append(contentsOf: payload)
        return 1
    }

    /// The JSON payload of the JSON formats, with or without the raw Graph document.
    nonisolated func jsonDocument(for event: Event, original: Bool) -> JSONValue {
        switch configuration.format {
        case .ocsf:
            var format = configuration.formats.ocsf
            if !original { format.includeRaw = false }
            return OCSFEncoder(format: format).document(for: event)
        case .ecs:
            var format = configuration.formats.ecs
            if !original { format.includeOriginal = false }
            return ECSEncoder(format: format).document(for: event)
        default:
            guard !original, case .object(let members) = event.jsonValue(includingRaw: false) else {
                return event.jsonValue
            }
            return .object(members + [("truncated", .bool(true))])
        }
    }

    // MARK: Sink

    public func write(_ batch: [Event]) async throws {
        guard !batch.isEmpty else { return }
        let datagrams = configuration.transport == .udp
        // The buffer of a batch that left the resend window: its pages are already mapped.
        var frames = spareFrames
        spareFrames = []
        frames.removeAll(keepingCapacity: true)
        let (messages, truncated) = try encode(batch, separately: datagrams, frames: &frames)
        if truncated > 0 {
            statistics.truncatedEvents += truncated
            logger.warning(
                "events cut to fit max_message_size",
                metadata: [
                    "sink": "\(name)", "events": "\(truncated)", "max_message_size": "\(configuration.maxMessageSize)",
                    "total_truncated": "\(statistics.truncatedEvents)",
                ])
        }
        if datagrams {
            try sendDatagrams(messages)
        } else {
            try sendStream(frames, count: batch.count)
            if configuration.resendWindow == nil { spareFrames = frames }
        }
    }

    /// A batch's messages: framed into one buffer for a stream, one array each for datagrams.
    /// Returns how many were cut; throws when one cannot fit at all.
    private nonisolated func encode(_ batch: [Event], separately: Bool, frames: inout [UInt8]) throws -> (
        messages: [[UInt8]], truncated: Int
    ) {
        let now = Timestamp.now()
        let stamp = configuration.header.stamp(at: now)
        // Each message is built in one reused buffer first: octet counting puts its length in front.
        var messages: [[UInt8]] = []
        var message: [UInt8] = []
        message.reserveCapacity(min(configuration.maxMessageSize, 1 << 16))
        if separately { messages.reserveCapacity(batch.count) } else { frames.reserveCapacity(batch.count * 1600) }
        var truncated = 0
        // Read in place: `batch[i]` would copy every field of each alert.
        let tooLong: Int? = batch.withUnsafeBufferPointer { events in
            for i in events.indices {
                message.removeAll(keepingCapacity: true)
                guard let cut = appendMessage(for: events[i], stamp: stamp, to: &message) else { return i }
                if cut { truncated += 1 }
                if separately { messages.append(message) } else { configuration.framing.frame(message, into: &frames) }
            }
            return nil
        }
        if let tooLong { throw tooLarge(batch[tooLong], at: now) }
        return (messages, truncated)
    }

    /// An event whose essentials cannot fit: the batch is refused whole before anything is sent,
    /// so it reaches the dead-letter file intact (replay it after raising the limit).
    private nonisolated func tooLarge(_ event: Event, at time: Timestamp) -> SinkError {
        let minimum = configuration.format == .cef ? cefEncoder.minimumSize(of: event) : encoder.minimumSize(of: event)
        let needed = configuration.header.render(for: event, at: time).count + minimum
        let id = event.alert.map { " (alert \($0.id.prefix(80)))" } ?? ""
        let format = configuration.format == .cef ? "CEF" : "LEEF"
        return .permanent(
            "an event\(id) needs at least \(needed) bytes to keep its \(format) header and essential fields whole, "
                + "more than max_message_size (\(configuration.maxMessageSize)); raise max_message_size, then replay "
                + "the dead letters"
        )
    }

    public func flush() async throws {
        guard case .stream(let stream, _, _) = connection else { return }
        // Give the receiver's TCP stack a moment to acknowledge what was sent.
        let deadline = ContinuousClock.now + .seconds(2)
        while let pending = stream.unacknowledgedBytes(), pending > 0, ContinuousClock.now < deadline {
            usleepMillis(10)
        }
    }

    public func close() async throws {
        try? await flush()
        disconnect()
        executor.shutdown()
    }

    // MARK: Transport

    private func sendDatagrams(_ messages: [[UInt8]]) throws {
        let socket = try datagramSocket()
        let target = configuration.targets[udpTarget]
        var sent = 0
        for m in messages {
            do {
                try socket.send(m)
            } catch {
                statistics.lastError = error.description
                statistics.connectionsLost += 1
                disconnect()
                // The receiver refused (ICMP port unreachable): the next attempt uses the next target.
                udpTarget = (udpTarget + 1) % configuration.targets.count
                throw SinkError.retryable(
                    "syslog over UDP to \(target): \(error.description) after \(sent) of \(messages.count) messages")
            }
            sent += 1
            statistics.messagesSent += 1
            statistics.bytesSent += m.count
        }
    }

    private func datagramSocket() throws -> UDPSocket {
        if case .datagram(let socket, _) = connection { return socket }
        var failures: [String] = []
        for offset in configuration.targets.indices {
            let index = (udpTarget + offset) % configuration.targets.count
            let target = configuration.targets[index]
            do {
                let socket = try UDPSocket(host: target.host, port: target.port)
                udpTarget = index
                connection = .datagram(socket, target: index)
                statistics.connects += 1
                return socket
            } catch {
                failures.append(error.description)
            }
        }
        let message = failures.joined(separator: "; ")
        statistics.lastError = message
        throw SinkError.retryable(message)
    }

    private func sendStream(_ frames: [UInt8], count: Int) throws {
        // A receiver that closed the connection since the last batch may not have read it.
        if case .stream(let stream, let target, let since) = connection {
            if stream.peerHasClosed() {
                logger.warning(
                    "the receiver closed the connection; reconnecting",
                    metadata: [
                        "sink": "\(name)", "target": "\(configuration.targets[target])",
                    ])
                statistics.connectionsLost += 1
                disconnect()
                markRecentForResend()
            } else if target > 0 && ContinuousClock.now - since > configuration.failbackAfter.duration {
                logger.info(
                    "trying the primary target again",
                    metadata: ["sink": "\(name)", "primary": "\(configuration.targets[0])"])
                disconnect()
            }
        }
        let stream = try connectedStream()
        do {
            if !resendPending.isEmpty {
                let pending = resendPending
                resendPending = []
                let messages = pending.reduce(0) { $0 + $1.count }
                logger.warning(
                    "sending recent batches again: the receiver may not have read them before the connection was lost",
                    metadata: [
                        "sink": "\(name)", "batches": "\(pending.count)", "messages": "\(messages)",
                    ])
                for (index, batch) in pending.enumerated() {
                    do {
                        try stream.send(batch.frames, timeout: configuration.writeTimeout.duration)
                    } catch {
                        // Not yet resent: keep them (once) for the next connection.
                        resendPending = Array(pending[index...])
                        throw error
                    }
                    statistics.batchesResent += 1
                    statistics.messagesResent += batch.count
                    statistics.bytesSent += batch.frames.count
                    remember(batch.frames, count: batch.count)
                }
            }
            try stream.send(frames, timeout: configuration.writeTimeout.duration)
        } catch {
            statistics.lastError = "\(error)"
            statistics.connectionsLost += 1
            disconnect()
            markRecentForResend()
            throw SinkError.retryable("syslog to \(stream.options.host):\(stream.options.port): \(error)")
        }
        statistics.messagesSent += count
        statistics.bytesSent += frames.count
        remember(frames, count: count)
    }

    /// Keeps a sent batch for `resend_window` (at least the last one), up to 64 MiB.
    private func remember(_ frames: [UInt8], count: Int) {
        guard let window = configuration.resendWindow else { return }
        let now = ContinuousClock.now
        recent.append(SentBatch(frames: frames, count: count, sentAt: now))
        recentBytes += frames.count
        while recent.count > 1 && (now - recent[0].sentAt > window.duration || recentBytes > 64 << 20) {
            let evicted = recent.removeFirst()
            recentBytes -= evicted.frames.count
            spareFrames = evicted.frames
        }
    }

    /// The connection is gone: what was sent on it recently may not have been read. Batches
    /// already waiting to be resent stay first, each once.
    private func markRecentForResend() {
        let waiting = Set(resendPending.map(\.sentAt))
        resendPending += recent.filter { !waiting.contains($0.sentAt) }
        recent = []
        recentBytes = 0
        // Bounded like the window itself.
        var bytes = resendPending.reduce(0) { $0 + $1.frames.count }
        while resendPending.count > 1 && bytes > 64 << 20 { bytes -= resendPending.removeFirst().frames.count }
    }

    private func connectedStream() throws -> CurlStream {
        if case .stream(let stream, _, _) = connection { return stream }
        var failures: [String] = []
        for (index, target) in configuration.targets.enumerated() {
            let options = CurlStream.Options(
                host: target.host, port: target.port, tls: configuration.transport == .tls,
                caFile: configuration.tls.caFile, clientCertificateFile: configuration.tls.clientCertificate,
                clientKeyFile: configuration.tls.clientKey, verifyPeer: configuration.tls.verify,
                serverName: configuration.tls.serverName, connectTimeout: configuration.connectTimeout.duration,
                keepAlive: configuration.keepalive?.duration)
            do {
                let stream = try CurlStream(options: options)
                connection = .stream(stream, target: index, since: .now)
                statistics.connects += 1
                logger.info(
                    "connected",
                    metadata: [
                        "sink": "\(name)", "target": "\(target)", "transport": "\(configuration.transport.rawValue)",
                        "role": "\(index == 0 ? "primary" : "failover \(index)")",
                    ])
                return stream
            } catch {
                failures.append(error.description)
            }
        }
        let message = failures.joined(separator: "; ")
        statistics.lastError = message
        logger.warning("no syslog target accepted a connection", metadata: ["sink": "\(name)", "errors": "\(message)"])
        throw SinkError.retryable("no syslog target accepted a connection: \(message)")
    }

    private func disconnect() {
        switch connection {
        case .stream(let stream, _, _): stream.close()
        case .datagram(let socket, _): socket.close()
        case .none: break
        }
        connection = .none
    }
}

#if canImport(Glibc)
    import Glibc
#endif

func usleepMillis(_ ms: Int) {
    usleep(UInt32(ms * 1000))
}
