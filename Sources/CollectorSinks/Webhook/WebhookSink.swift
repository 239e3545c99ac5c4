public import CollectorCore
public import Logging
import CurlTransport
import Foundation
import GzipStream
import CollectorSystem

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
    public enum BodyFormat: String, Decodable, Sendable, CaseIterable {
        case ndjson
        case jsonArray = "json-array"
    }

    public struct Auth: Decodable, Sendable {
        public var bearer: Secret?
        public var username: String?
        public var password: Secret?
    }

    public struct Signing: Decodable, Sendable {
        /// Standard Webhooks secrets (`whsec_<base64>`; other text is used as the key bytes).
        /// Several sign every request, for rotation.
        public var secrets: [Secret]
        /// A GitHub-style `X-Hub-Signature-256: sha256=<hex HMAC of the body>` with this secret.
        public var githubSecret: Secret?

        enum CodingKeys: String, CodingKey { case secrets, githubSecret = "github_secret" }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            secrets = try c.decodeIfPresent([Secret].self, forKey: .secrets) ?? []
            githubSecret = try c.decodeIfPresent(Secret.self, forKey: .githubSecret)
            for secret in secrets where secret.reveal().hasPrefix("whsec_") && Data(base64Encoded: String(secret.reveal().dropFirst(6))) == nil {
                throw DecodingError.dataCorruptedError(forKey: .secrets, in: c, debugDescription: "a whsec_ secret must be base64 after the prefix")
            }
        }

        public init(secrets: [Secret], githubSecret: Secret? = nil) {
            self.secrets = secrets
            self.githubSecret = githubSecret
        }
    }

    public struct Configuration: Decodable, Sendable {
        public var url: String
        public var format: BodyFormat
        public var gzip: Bool
        public var headers: [String: String]
        public var auth: Auth?
        public var signing: Signing?
        public var maxEventsPerRequest: Int
        public var maxBytesPerRequest: ByteSize
        public var maxConcurrent: Int
        /// Requests per second, or nil for no limit.
        public var rateLimit: Double?
        public var retryableStatus: [ClosedRange<Int>]
        public var maxRetryAfter: ConfigDuration
        public var timeout: ConfigDuration
        public var connectTimeout: ConfigDuration
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var verifyTLS: Bool

        enum CodingKeys: String, CodingKey {
            case url, format, gzip, headers, auth, signing, maxEventsPerRequest = "max_events_per_request"
            case maxBytesPerRequest = "max_bytes_per_request", maxConcurrent = "max_concurrent", rateLimit = "rate_limit"
            case retryableStatus = "retryable_status", maxRetryAfter = "max_retry_after", timeout, connectTimeout = "connect_timeout", tls
        }

        enum TLSKeys: String, CodingKey { case caFile = "ca_file", clientCertificate = "client_certificate", clientKey = "client_key", verify }

        public init(url: String, signing: Signing? = nil) {
            self.url = url
            format = .ndjson
            gzip = false
            headers = [:]
            auth = nil
            self.signing = signing
            maxEventsPerRequest = 500
            maxBytesPerRequest = .mebibytes(5)
            maxConcurrent = 2
            rateLimit = nil
            retryableStatus = [408...408, 429...429, 500...599]
            maxRetryAfter = .seconds(60)
            timeout = .seconds(30)
            connectTimeout = .seconds(10)
            verifyTLS = true
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decode(String.self, forKey: .url)
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count > 8 else {
                throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "'\(url)' is not an http:// or https:// URL")
            }
            format = try c.decodeIfPresent(BodyFormat.self, forKey: .format) ?? .ndjson
            gzip = try c.decodeIfPresent(Bool.self, forKey: .gzip) ?? false
            headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
            for name in headers.keys where name.isEmpty || name.contains(where: { $0 == ":" || $0 == " " || $0.isNewline }) {
                throw DecodingError.dataCorruptedError(forKey: .headers, in: c, debugDescription: "'\(name)' is not a header name")
            }
            auth = try c.decodeIfPresent(Auth.self, forKey: .auth)
            if let auth, auth.bearer != nil && (auth.username != nil || auth.password != nil) {
                throw DecodingError.dataCorruptedError(forKey: .auth, in: c, debugDescription: "use either bearer or username/password, not both")
            }
            if let auth, (auth.username == nil) != (auth.password == nil) {
                throw DecodingError.dataCorruptedError(forKey: .auth, in: c, debugDescription: "basic auth needs both username and password")
            }
            signing = try c.decodeIfPresent(Signing.self, forKey: .signing)
            maxEventsPerRequest = try c.decodeIfPresent(Int.self, forKey: .maxEventsPerRequest) ?? 500
            maxBytesPerRequest = try c.decodeIfPresent(ByteSize.self, forKey: .maxBytesPerRequest) ?? .mebibytes(5)
            maxConcurrent = try c.decodeIfPresent(Int.self, forKey: .maxConcurrent) ?? 2
            guard maxEventsPerRequest >= 1, maxConcurrent >= 1, maxConcurrent <= 64, maxBytesPerRequest.bytes >= 1024 else {
                throw DecodingError.dataCorruptedError(forKey: .maxConcurrent, in: c, debugDescription:
                    "max_events_per_request must be ≥ 1, max_concurrent 1–64 and max_bytes_per_request ≥ 1KiB")
            }
            rateLimit = try c.decodeIfPresent(Double.self, forKey: .rateLimit)
            if let r = rateLimit, !(r > 0 && r <= 100_000) {
                throw DecodingError.dataCorruptedError(forKey: .rateLimit, in: c, debugDescription: "requests per second must be above 0 and at most 100000 (omit it for no limit)")
            }
            if let codes = try c.decodeIfPresent([String].self, forKey: .retryableStatus) {
                retryableStatus = try codes.map { text in
                    if text.count == 3, text.hasSuffix("xx"), let d = Int(text.prefix(1)) { return (d * 100)...(d * 100 + 99) }
                    if let n = Int(text), (100...599).contains(n) { return n...n }
                    throw DecodingError.dataCorruptedError(forKey: .retryableStatus, in: c, debugDescription: "'\(text)' is not a status code (429) or class (5xx)")
                }
            } else {
                retryableStatus = [408...408, 429...429, 500...599]
            }
            maxRetryAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxRetryAfter) ?? .seconds(60)
            timeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .timeout) ?? .seconds(30)
            connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? .seconds(10)
            if c.contains(.tls) {
                let t = try c.nestedContainer(keyedBy: TLSKeys.self, forKey: .tls)
                caFile = try t.decodeIfPresent(String.self, forKey: .caFile)
                clientCertificate = try t.decodeIfPresent(String.self, forKey: .clientCertificate)
                clientKey = try t.decodeIfPresent(String.self, forKey: .clientKey)
                verifyTLS = try t.decodeIfPresent(Bool.self, forKey: .verify) ?? true
            } else {
                verifyTLS = true
            }
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "webhook"
        public static let summary = "HTTP POST of NDJSON or JSON-array batches, Standard Webhooks signatures, retries honouring Retry-After"
        public static let options: [PluginOption] = [
            PluginOption("url", type: "URL", default: nil, "where batches are POSTed"),
            PluginOption("format", type: "ndjson | json-array", default: "ndjson", "request body"),
            PluginOption("gzip", type: "bool", default: "false", "compress request bodies (Content-Encoding: gzip)"),
            PluginOption("headers", type: "map", default: "none", "extra request headers"),
            PluginOption("auth", type: "bearer or username/password", default: "none", "Authorization header (secrets via ${ENV} or x_file)"),
            PluginOption("signing", type: "secrets, github_secret", default: "none", "Standard Webhooks signatures (several secrets for rotation) and optional X-Hub-Signature-256"),
            PluginOption("max_events_per_request", type: "integer", default: "500", "events per request"),
            PluginOption("max_bytes_per_request", type: "size", default: "5MiB", "body size per request (before gzip)"),
            PluginOption("max_concurrent", type: "integer", default: "2", "requests in flight at once"),
            PluginOption("rate_limit", type: "requests per second", default: "none", "most requests per second"),
            PluginOption("retryable_status", type: "list", default: "[408, 429, 5xx]", "answers retried with backoff; other non-2xx are permanent"),
            PluginOption("max_retry_after", type: "duration", default: "60s", "longest Retry-After honoured before retrying"),
            PluginOption("timeout", type: "duration", default: "30s", "whole request"),
            PluginOption("connect_timeout", type: "duration", default: "10s", "connection"),
            PluginOption("tls", type: "ca_file, client_certificate, client_key, verify", default: "system CAs, verify", "TLS settings"),
        ]

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.caFile = context.resolve(config.caFile)
            config.clientCertificate = context.resolve(config.clientCertificate)
            config.clientKey = context.resolve(config.clientKey)
            return WebhookSink(configuration: config, logger: context.logger, name: context.name)
        }
    }

    /// What the sink has done since it started.
    public struct Statistics: Sendable, Hashable {
        public var requests = 0
        public var accepted = 0
        public var retryableFailures = 0
        public var permanentFailures = 0
        public var lastError: String?
    }

    public let configuration: Configuration
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
        limiter = configuration.rateLimit.map { RateLimiter(perMinute: max(1, Int(($0 * 60).rounded())), burst: max(1, Int($0.rounded(.up)))) }
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
            switch configuration.format {
            case .ndjson:
                for line in lines { body += line; body.append(0x0A) }
            case .jsonArray:
                body.append(UInt8(ascii: "["))
                for (i, line) in lines.enumerated() { if i > 0 { body.append(UInt8(ascii: ",")) }; body += line }
                body.append(UInt8(ascii: "]"))
            }
            let id = "msg_" + Digest.hex(Array(Digest.sha256(body).prefix(16)))
            out.append(Delivery(id: id, body: body, events: lines.count))
            lines = []
            size = 0
        }
        for event in batch {
            var writer = JSONWriter(reservingCapacity: 1024)
            writer.write(event.jsonValue)
            if !lines.isEmpty && (lines.count >= configuration.maxEventsPerRequest || size + writer.bytes.count > Int(configuration.maxBytesPerRequest.bytes)) {
                close()
            }
            lines.append(writer.bytes)
            size += writer.bytes.count + 1
        }
        close()
        return out
    }

    /// The headers of one attempt: content type, auth, custom headers and signatures.
    nonisolated func headers(for delivery: Delivery, body: [UInt8], timestamp: Int64) -> [(String, String)] {
        var headers: [(String, String)] = [
            ("Content-Type", configuration.format == .ndjson ? "application/x-ndjson" : "application/json"),
            ("webhook-id", delivery.id), ("webhook-timestamp", String(timestamp)),
        ]
        if configuration.gzip { headers.append(("Content-Encoding", "gzip")) }
        if let auth = configuration.auth {
            if let bearer = auth.bearer { headers.append(("Authorization", "Bearer \(bearer.reveal())")) }
            if let user = auth.username, let password = auth.password {
                headers.append(("Authorization", "Basic " + Data("\(user):\(password.reveal())".utf8).base64EncodedString()))
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
                headers.append(("X-Hub-Signature-256", "sha256=" + Digest.hex(Digest.hmacSHA256(key: Array(github.reveal().utf8), body))))
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
        if let limiter { try? await limiter.acquire() }
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
        let request = HTTPRequest(method: "POST", url: configuration.url, headers: headers(for: delivery, body: body, timestamp: timestamp), body: body)
        do {
            let response = try await client.send(request)
            if (200...299).contains(response.status) { return .accepted(delivery.id) }
            let reason = "HTTP \(response.status)" + (response.body.isEmpty ? "" : ": " + String(response.bodyText.prefix(300)))
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
            logger.error("the webhook receiver rejected events", metadata: ["sink": "\(name)", "reason": "\(reject[0])", "requests": "\(reject.count)"])
        }
        // Retry what may still succeed first; the rejections are reported once nothing is left to retry.
        if !retry.isEmpty {
            statistics.lastError = retry[0].0
            // Honour the longest Retry-After (capped) before handing the batch back for retry.
            if let after = retry.compactMap(\.1).max() {
                let wait = min(after, configuration.maxRetryAfter.duration)
                logger.warning("webhook receiver asked to wait", metadata: ["sink": "\(name)", "retry_after": "\(wait)"])
                try await Task.sleep(for: wait)
            }
            throw SinkError.retryable("webhook \(Self.redact(configuration.url)): \(retry.count) of \(outcomes.count) request(s) failed: \(retry[0].0)")
        }
        try throwRejections(in: all)
    }

    /// Reports requests of this batch the receiver rejected (and forgets them).
    private func throwRejections(in deliveries: [Delivery]) throws {
        let reasons = deliveries.compactMap { rejected.removeValue(forKey: $0.id) }
        guard !reasons.isEmpty else { return }
        throw SinkError.permanent("webhook \(Self.redact(configuration.url)) rejected \(reasons.count) request(s): \(reasons[0])")
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
