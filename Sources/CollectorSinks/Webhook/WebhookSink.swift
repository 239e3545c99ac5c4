public import CollectorCore
import CollectorSystem
import CurlTransport
import EventFormats
import Foundation
import GzipStream
public import Logging

/// `type: webhook`: POSTs batches of events to an HTTP endpoint as NDJSON or a JSON array,
/// signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
/// `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), optionally also with a
/// GitHub-style `X-Hub-Signature-256`.
///
/// A batch is split into requests of at most `max_events_per_request` events and
/// `max_bytes_per_request` bytes, sent up to `max_concurrent` at a time. Each request's
/// `webhook-id` is derived from its content, so it is the same on every retry (also after a
/// restart): the receiver's idempotency key. Requests already accepted are not sent again when
/// the batch is retried. 408, 429 and 5xx (configurable) and network errors are retryable, with
/// `Retry-After` honoured; other answers are permanent and reported with the receiver's reason.
public actor WebhookSink: Sink {
    /// What the sink has done since it started.
    public struct Statistics: Sendable, Hashable {
        public var requests = 0
        public var accepted = 0
        public var retryableFailures = 0
        public var permanentFailures = 0
        public var lastError: String?
    }

    public let configuration: Configuration
    /// Turns each event into one line (or array element) of the configured format.
    let encoder: any EventEncoding
    let logger: Logger
    let name: String
    let client: HTTPClient
    let limiter: RateLimiter?
    /// webhook-ids the receiver accepted recently: not sent again when a batch is retried.
    private var delivered: [String] = []
    private var deliveredSet: Set<String> = []
    /// Requests of the current batch the receiver rejected, reported once the rest is through.
    private var rejected: [String: String] = [:]
    public private(set) var statistics = Statistics()

    public init(configuration: Configuration, logger: Logger, name: String = "webhook") {
        self.configuration = configuration
        self.encoder = configuration.formats.encoder
        self.logger = logger
        self.name = name
        var http = HTTPClientConfiguration()
        http.connectTimeout = configuration.connectTimeout.duration
        http.timeout = configuration.timeout.duration
        http.caFile = configuration.caFile
        http.clientCertificateFile = configuration.clientCertificate
        http.clientKeyFile = configuration.clientKey
        http.verifyTLS = configuration.verifyTLS
        http.connections = configuration.maxConcurrent
        http.maxBodySize = 1 << 20
        client = HTTPClient(configuration: http)
        limiter = configuration.rateLimit.map {
            RateLimiter(perMinute: max(1, Int(($0 * 60).rounded())), burst: max(1, Int($0.rounded(.up))))
        }
    }

    // MARK: Requests

    /// One request's body and its stable id.
    public struct Delivery: Sendable {
        /// `webhook-id`: derived from the body, so the same on every retry.
        public var id: String
        /// The body before any gzip.
        public var body: [UInt8]
        public var events: Int
    }

    /// Splits a batch into request bodies by count and size, as ``write(_:)`` sends them.
    public nonisolated func deliveries(for batch: [Event]) -> [Delivery] {
        var out: [Delivery] = []
        var lines: [[UInt8]] = []
        var size = 0
        func close() {
            guard !lines.isEmpty else { return }
            var body: [UInt8] = []
            body.reserveCapacity(size + lines.count + 2)
            switch configuration.body {
            case .ndjson:
                for line in lines {
                    body += line
                    body.append(0x0A)
                }
            case .jsonArray:
                body.append(UInt8(ascii: "["))
                for (i, line) in lines.enumerated() {
                    if i > 0 { body.append(UInt8(ascii: ",")) }
                    body += line
                }
                body.append(UInt8(ascii: "]"))
            }
            let id = "msg_" + Digest.hex(Array(Digest.sha256(body).prefix(16)))
            out.append(Delivery(id: id, body: body, events: lines.count))
            lines = []
            size = 0
        }
        for event in batch {
            var line: [UInt8] = []
            encoder.encode(event, into: &line)
            if !lines.isEmpty
                && (lines.count >= configuration.maxEventsPerRequest
                    || size + line.count > Int(configuration.maxBytesPerRequest.bytes))
            {
                close()
            }
            lines.append(line)
            size += line.count + 1
        }
        close()
        return out
    }

    /// `application/x-ndjson` or `application/json` for the JSON formats; text lines otherwise.
    nonisolated var contentType: String {
        guard encoder.producesJSON else { return "text/plain; charset=utf-8" }
        return configuration.body == .ndjson ? "application/x-ndjson" : "application/json"
    }

    /// The headers of one attempt: content type, auth, custom headers and signatures.
    nonisolated func headers(for delivery: Delivery, body: [UInt8], timestamp: Int64) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("Content-Type", contentType),
            ("webhook-id", delivery.id), ("webhook-timestamp", String(timestamp)),
        ]
        if configuration.gzip { headers.append(("Content-Encoding", "gzip")) }
        if let auth = configuration.auth {
            if let bearer = auth.bearer { headers.append(("Authorization", "Bearer \(bearer.reveal())")) }
            if let user = auth.username, let password = auth.password {
                headers.append(
                    ("Authorization", "Basic " + Data("\(user):\(password.reveal())".utf8).base64EncodedString()))
            }
        }
        for (name, value) in configuration.headers.sorted(by: { $0.key < $1.key }) { headers.append((name, value)) }
        if let signing = configuration.signing {
            if !signing.secrets.isEmpty {
                let signed = Array("\(delivery.id).\(timestamp).".utf8) + body
                let signatures = signing.secrets.map { secret in
                    "v1," + Data(Digest.hmacSHA256(key: Self.keyBytes(secret), signed)).base64EncodedString()
                }
                headers.append(("webhook-signature", signatures.joined(separator: " ")))
            }
            if let github = signing.githubSecret {
                headers.append(
                    (
                        "X-Hub-Signature-256",
                        "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array(github.reveal().utf8), body))
                    ))
            }
        }
        return headers
    }

    /// A Standard Webhooks secret's key: the base64 after `whsec_`, else the text itself.
    static func keyBytes(_ secret: Secret) -> [UInt8] {
        let text = secret.reveal()
        if text.hasPrefix("whsec_"), let data = Data(base64Encoded: String(text.dropFirst(6))) { return Array(data) }
        return Array(text.utf8)
    }

    enum Outcome: Sendable {
        case accepted(String)
        case retry(String, after: Duration?)
        case reject(id: String, reason: String)
    }

    private nonisolated func send(_ delivery: Delivery) async -> Outcome {
        if let limiter { _ = try? await limiter.acquire() }
        var body = delivery.body
        if configuration.gzip {
            do {
                let encoder = try GzipEncoder(level: 6)
                body = try encoder.compress(body) + encoder.finish()
            } catch {
                return .reject(id: delivery.id, reason: "gzip failed: \(error)")
            }
        }
        let timestamp = Timestamp.now().secondsSinceEpoch
        let request = HTTPRequest(
            method: "POST", url: configuration.url, headers: headers(for: delivery, body: body, timestamp: timestamp),
            body: body)
        do {
            let response = try await client.send(request)
            if (200...299).contains(response.status) { return .accepted(delivery.id) }
            let reason =
                "HTTP \(response.status)" + (response.body.isEmpty ? "" : ": " + String(response.bodyText.prefix(300)))
            if configuration.retryableStatus.contains(where: { $0.contains(response.status) }) {
                return .retry(reason, after: response.retryAfter)
            }
            return .reject(id: delivery.id, reason: reason)
        } catch {
            // Not the error's description: it names the full URL, which may hold credentials.
            return .retry("\(Self.redact(configuration.url)): \(error.message) (curl error \(error.code))", after: nil)
        }
    }

    // MARK: Sink

    public func write(_ batch: [Event]) async throws {
        let all = deliveries(for: batch)
        let pending = all.filter { !deliveredSet.contains($0.id) && rejected[$0.id] == nil }
        guard !pending.isEmpty else {
            try throwRejections(in: all)
            return
        }
        var outcomes: [Outcome] = []
        let limit = configuration.maxConcurrent
        await withTaskGroup(of: Outcome.self) { group in
            var next = 0
            for _ in 0..<min(limit, pending.count) {
                let d = pending[next]
                next += 1
                group.addTask { await self.send(d) }
            }
            for await outcome in group {
                outcomes.append(outcome)
                if next < pending.count {
                    let d = pending[next]
                    next += 1
                    group.addTask { await self.send(d) }
                }
            }
        }
        statistics.requests += outcomes.count
        var retry: [(String, Duration?)] = []
        var reject: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .accepted(let id):
                statistics.accepted += 1
                remember(id)
            case .retry(let reason, let after):
                statistics.retryableFailures += 1
                retry.append((reason, after))
            case .reject(let id, let reason):
                statistics.permanentFailures += 1
                reject.append(reason)
                rejected[id] = reason
            }
        }
        if !reject.isEmpty {
            statistics.lastError = reject[0]
            logger.error(
                "the webhook receiver rejected events",
                metadata: ["sink": "\(name)", "reason": "\(reject[0])", "requests": "\(reject.count)"])
        }
        // Retry what may still succeed first; the rejections are reported once nothing is left to retry.
        if !retry.isEmpty {
            statistics.lastError = retry[0].0
            // Honour the longest Retry-After (capped) before handing the batch back for retry.
            if let after = retry.compactMap(\.1).max() {
                let wait = min(after, configuration.maxRetryAfter.duration)
                logger.warning(
                    "webhook receiver asked to wait", metadata: ["sink": "\(name)", "retry_after": "\(wait)"])
                try await Task.sleep(for: wait)
            }
            throw SinkError.retryable(
                "webhook \(Self.redact(configuration.url)): \(retry.count) of \(outcomes.count) request(s) failed: "
                    + "\(retry[0].0)"
            )
        }
        try throwRejections(in: all)
    }

    /// Reports requests of this batch the receiver rejected (and forgets them).
    private func throwRejections(in deliveries: [Delivery]) throws {
        let reasons = deliveries.compactMap { rejected.removeValue(forKey: $0.id) }
        guard !reasons.isEmpty else { return }
        throw SinkError.permanent(
            "webhook \(Self.redact(configuration.url)) rejected \(reasons.count) request(s): \(reasons[0])")
    }

    public func close() async throws {
        await client.shutdown()
    }

    private func remember(_ id: String) {
        guard deliveredSet.insert(id).inserted else { return }
        delivered.append(id)
        if delivered.count > 10_000 {
            deliveredSet.remove(delivered.removeFirst())
        }
    }

    /// The URL without user info and query, for logs and errors.
    static func redact(_ url: String) -> String {
        var text = url
        if let q = text.firstIndex(of: "?") { text = String(text[..<q]) }
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") {
            text = String(text[..<scheme.upperBound]) + String(text[text.index(after: at)...])
        }
        return text
    }
}
