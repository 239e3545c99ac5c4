public import CollectorCore
import CollectorSystem
import CurlTransport
public import EventFormats
import Foundation
import GzipStream
public import Logging

extension WebhookSink {
    /// How a request body holds its events: one per line, or (JSON formats only) a JSON array.
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

        enum CodingKeys: String, CodingKey {
            case secrets
            case githubSecret = "github_secret"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            secrets = try c.decodeIfPresent([Secret].self, forKey: .secrets) ?? []
            githubSecret = try c.decodeIfPresent(Secret.self, forKey: .githubSecret)
            for secret in secrets
            where secret.reveal().hasPrefix("whsec_")
                && Data(base64Encoded: String(secret.reveal().dropFirst(6))) == nil
            {
                throw DecodingError.dataCorruptedError(
                    forKey: .secrets, in: c, debugDescription: "a whsec_ secret must be base64 after the prefix")
            }
        }

        public init(secrets: [Secret], githubSecret: Secret? = nil) {
            self.secrets = secrets
            self.githubSecret = githubSecret
        }
    }

    public struct Configuration: Decodable, Sendable {
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        public var url: String
        /// `body:` one event per line (`ndjson`, for every format) or a JSON array.
        public var body: BodyFormat = .ndjson
        /// `format:` (json by default) and its settings block.
        public var formats = EventFormatSettings(.json)
        public var gzip = false
        public var headers: [String: String] = [:]
        public var auth: Auth?
        public var signing: Signing?
        public var maxEventsPerRequest = 500
        public var maxBytesPerRequest: ByteSize = .mebibytes(5)
        public var maxConcurrent = 2
        /// Requests per second, or nil for no limit.
        public var rateLimit: Double?
        public var retryableStatus: [ClosedRange<Int>] = [408...408, 429...429, 500...599]
        public var maxRetryAfter: ConfigDuration = .seconds(60)
        public var timeout: ConfigDuration = .seconds(30)
        public var connectTimeout: ConfigDuration = .seconds(10)
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var verifyTLS = true

        /// Every setting at its default (the URL has none).
        static let defaults = Configuration(url: "")

        enum CodingKeys: String, CodingKey {
            case url, format, body, gzip, headers, auth, signing
            case maxEventsPerRequest = "max_events_per_request"
            case maxBytesPerRequest = "max_bytes_per_request"
            case maxConcurrent = "max_concurrent"
            case rateLimit = "rate_limit"
            case retryableStatus = "retryable_status"
            case maxRetryAfter = "max_retry_after"
            case timeout
            case connectTimeout = "connect_timeout"
            case tls
        }

        enum TLSKeys: String, CodingKey {
            case caFile = "ca_file"
            case clientCertificate = "client_certificate"
            case clientKey = "client_key"
            case verify
        }

        public init(url: String, signing: Signing? = nil) {
            self.url = url
            self.signing = signing
        }

        /// `format:` with its block, and `body:`. `format: ndjson | json-array` is how earlier
        /// versions chose the body; it is still read.
        static func decodeFormat(
            _ c: KeyedDecodingContainer<CodingKeys>, decoder: any Decoder
        ) throws -> (EventFormatSettings, BodyFormat) {
            let legacy = try c.decodeIfPresent(String.self, forKey: .format).flatMap(BodyFormat.init(rawValue:))
            let formats = try EventFormatSettings(
                from: decoder, default: .json, name: legacy == nil ? nil : EventFormatName.json)
            let body = try c.decodeIfPresent(BodyFormat.self, forKey: .body) ?? legacy ?? defaults.body
            if body == .jsonArray && !formats.encoder.producesJSON {
                throw DecodingError.dataCorruptedError(
                    forKey: .body, in: c,
                    debugDescription:
                        "a json-array body holds JSON documents; format \(formats.name.rawValue) is text: use body: ndjson"
                )
            }
            return (formats, body)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self.defaults
            url = try c.decode(String.self, forKey: .url)
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), url.count > 8 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .url, in: c, debugDescription: "'\(url)' is not an http:// or https:// URL")
            }
            (formats, body) = try Self.decodeFormat(c, decoder: decoder)
            gzip = try c.decodeIfPresent(Bool.self, forKey: .gzip) ?? d.gzip
            headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? d.headers
            for name in headers.keys
            where name.isEmpty || name.contains(where: { $0 == ":" || $0 == " " || $0.isNewline }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .headers, in: c, debugDescription: "'\(name)' is not a header name")
            }
            auth = try c.decodeIfPresent(Auth.self, forKey: .auth)
            if let auth, auth.bearer != nil && (auth.username != nil || auth.password != nil) {
                throw DecodingError.dataCorruptedError(
                    forKey: .auth, in: c, debugDescription: "use either bearer or username/password, not both")
            }
            if let auth, (auth.username == nil) != (auth.password == nil) {
                throw DecodingError.dataCorruptedError(
                    forKey: .auth, in: c, debugDescription: "basic auth needs both username and password")
            }
            signing = try c.decodeIfPresent(Signing.self, forKey: .signing)
            maxEventsPerRequest = try c.decodeIfPresent(Int.self, forKey: .maxEventsPerRequest) ?? d.maxEventsPerRequest
            maxBytesPerRequest =
                try c.decodeIfPresent(ByteSize.self, forKey: .maxBytesPerRequest) ?? d.maxBytesPerRequest
            maxConcurrent = try c.decodeIfPresent(Int.self, forKey: .maxConcurrent) ?? d.maxConcurrent
            guard maxEventsPerRequest >= 1, maxConcurrent >= 1, maxConcurrent <= 64, maxBytesPerRequest.bytes >= 1024
            else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxConcurrent, in: c,
                    debugDescription:
                        "max_events_per_request must be ≥ 1, max_concurrent 1–64 and max_bytes_per_request ≥ 1KiB")
            }
            rateLimit = try c.decodeIfPresent(Double.self, forKey: .rateLimit)
            if let r = rateLimit, !(r > 0 && r <= 100_000) {
                throw DecodingError.dataCorruptedError(
                    forKey: .rateLimit, in: c,
                    debugDescription: "requests per second must be above 0 and at most 100000 (omit it for no limit)")
            }
            if let codes = try c.decodeIfPresent([String].self, forKey: .retryableStatus) {
                retryableStatus = try codes.map { text in
                    if text.count == 3, text.hasSuffix("xx"), let d = Int(text.prefix(1)) {
                        return (d * 100)...(d * 100 + 99)
                    }
                    if let n = Int(text), (100...599).contains(n) { return n...n }
                    throw DecodingError.dataCorruptedError(
                        forKey: .retryableStatus, in: c,
                        debugDescription: "'\(text)' is not a status code (429) or class (5xx)")
                }
            } else {
                retryableStatus = d.retryableStatus
            }
            maxRetryAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxRetryAfter) ?? d.maxRetryAfter
            timeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .timeout) ?? d.timeout
            connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? d.connectTimeout
            if c.contains(.tls) {
                let t = try c.nestedContainer(keyedBy: TLSKeys.self, forKey: .tls)
                caFile = try t.decodeIfPresent(String.self, forKey: .caFile)
                clientCertificate = try t.decodeIfPresent(String.self, forKey: .clientCertificate)
                clientKey = try t.decodeIfPresent(String.self, forKey: .clientKey)
                verifyTLS = try t.decodeIfPresent(Bool.self, forKey: .verify) ?? d.verifyTLS
            } else {
                verifyTLS = d.verifyTLS
            }
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "webhook"
        public static let summary =
            "HTTP POST of NDJSON or JSON-array batches, Standard Webhooks signatures, retries honouring Retry-After"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            return [
                PluginOption("url", type: "URL", default: nil, "where batches are POSTed"),
                EventFormatSettings.option(default: .json),
                PluginOption(
                    "body", type: "ndjson | json-array", default: d.body.rawValue,
                    "request body: one event per line, or a JSON array (JSON formats)"),
                PluginOption(
                    "gzip", type: "bool", default: "\(d.gzip)", "compress request bodies (Content-Encoding: gzip)"),
                PluginOption("headers", type: "map", default: "none", "extra request headers"),
                PluginOption(
                    "auth", type: "bearer or username/password", default: "none",
                    "Authorization header (secrets via ${ENV} or x_file)"),
                PluginOption(
                    "signing", type: "secrets, github_secret", default: "none",
                    "Standard Webhooks signatures (several secrets for rotation) and optional X-Hub-Signature-256"),
                PluginOption(
                    "max_events_per_request", type: "integer", default: "\(d.maxEventsPerRequest)", "events per request"
                ),
                PluginOption(
                    "max_bytes_per_request", type: "size", default: "\(d.maxBytesPerRequest)",
                    "body size per request (before gzip)"),
                PluginOption(
                    "max_concurrent", type: "integer", default: "\(d.maxConcurrent)", "requests in flight at once"),
                PluginOption("rate_limit", type: "requests per second", default: "none", "most requests per second"),
                PluginOption(
                    "retryable_status", type: "list", default: Self.statusText(d.retryableStatus),
                    "answers retried with backoff; other non-2xx are permanent"),
                PluginOption(
                    "max_retry_after", type: "duration", default: "\(d.maxRetryAfter)",
                    "longest Retry-After honoured before retrying"),
                PluginOption("timeout", type: "duration", default: "\(d.timeout)", "whole request"),
                PluginOption("connect_timeout", type: "duration", default: "\(d.connectTimeout)", "connection"),
                PluginOption(
                    "tls", type: "ca_file, client_certificate, client_key, verify", default: "system CAs, verify",
                    "TLS settings"),
            ]
        }

        /// `[408, 429, 5xx]`: codes, and whole classes as `5xx`.
        static func statusText(_ ranges: [ClosedRange<Int>]) -> String {
            let parts = ranges.map { r in
                r.count == 1
                    ? "\(r.lowerBound)" : r.count == 100 && r.lowerBound % 100 == 0 ? "\(r.lowerBound / 100)xx" : "\(r)"
            }
            return "[" + parts.joined(separator: ", ") + "]"
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.caFile = context.resolve(config.caFile)
            config.clientCertificate = context.resolve(config.clientCertificate)
            config.clientKey = context.resolve(config.clientKey)
            return WebhookSink(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
