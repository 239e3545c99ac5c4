public import CollectorCore
import NatsClient

extension NatsJetStreamSink {
    public struct Configuration: Decodable, Sendable {
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        public var servers: [String]
        public var subject: SubjectTemplate
        /// `format:` (json by default) and its settings block.
        public var formats = EventFormatSettings(.json)
        public var auth: Auth?
        public var stream: Stream?
        /// Publishes waiting for their acknowledgement at once.
        public var maxPending = 1024
        /// How long a batch's acknowledgements may take before the batch is retried.
        public var ackTimeout: ConfigDuration = .seconds(10)
        public var connectTimeout: ConfigDuration = .seconds(5)
        public var reconnectWait: ConfigDuration = .seconds(1)
        /// `tls:` (nil: defaults, used when a server URL starts with `tls://`).
        public var tls: TLS?
        /// TLS is on when `tls:` is given or a server URL starts with `tls://`.
        public var useTLS = false

        static let defaults = try! Configuration(servers: ["nats://127.0.0.1:4222"], subject: "graph.{event_type}")

        enum CodingKeys: String, CodingKey {
            case servers, subject, format, auth, stream, tls
            case maxPending = "max_pending"
            case ackTimeout = "ack_timeout"
            case connectTimeout = "connect_timeout"
            case reconnectWait = "reconnect_wait"
        }

        public init(servers: [String], subject: String) throws {
            self.servers = servers
            self.subject = try SubjectTemplate(subject)
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self.defaults
            servers = try c.decode([String].self, forKey: .servers)
            guard !servers.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .servers, in: c, debugDescription: "name at least one server (nats://host:4222)")
            }
            for server in servers where !Self.isServerURL(server) {
                throw DecodingError.dataCorruptedError(
                    forKey: .servers, in: c,
                    debugDescription: "'\(server)' is not a NATS server URL (nats://host:4222 or tls://host:4222)")
            }
            // Credentials in a URL would reach the logs with it (the client reports its URL).
            for server in servers
            where server.split(separator: "/", maxSplits: 3).dropFirst(1).first?.contains("@") == true {
                throw DecodingError.dataCorruptedError(
                    forKey: .servers, in: c,
                    debugDescription:
                        "a server URL holds credentials; give them in auth: (user, password, token) instead")
            }
            do {
                subject = try SubjectTemplate(try c.decode(String.self, forKey: .subject))
            } catch let problem as SubjectTemplate.Problem {
                throw DecodingError.dataCorruptedError(forKey: .subject, in: c, debugDescription: problem.description)
            }
            formats = try EventFormatSettings(from: decoder, default: .json)
            auth = try c.decodeIfPresent(Auth.self, forKey: .auth)
            stream = try c.decodeIfPresent(Stream.self, forKey: .stream)
            if let stream, !stream.subjects.contains(where: { NatsSubject.filter($0, covers: subject.pattern) }) {
                throw DecodingError.dataCorruptedError(
                    forKey: .subject, in: c,
                    debugDescription:
                        "the subject '\(subject)' is not among the stream's subjects \(stream.subjects): its messages "
                        + "would not be stored (a token with a field needs '*' or '>' there)")
            }
            maxPending = try c.decodeIfPresent(Int.self, forKey: .maxPending) ?? d.maxPending
            guard (1...65_536).contains(maxPending) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxPending, in: c, debugDescription: "max_pending must be 1 to 65536")
            }
            ackTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .ackTimeout) ?? d.ackTimeout
            connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? d.connectTimeout
            reconnectWait = try c.decodeIfPresent(ConfigDuration.self, forKey: .reconnectWait) ?? d.reconnectWait
            for (key, value) in [(CodingKeys.ackTimeout, ackTimeout), (.connectTimeout, connectTimeout)]
            where value.seconds < 0.01 {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "\(key.stringValue) must be at least 10ms")
            }
            tls = try c.decodeIfPresent(TLS.self, forKey: .tls)
            useTLS = tls != nil || servers.contains { $0.hasPrefix("tls://") }
        }

        static func isServerURL(_ text: String) -> Bool {
            guard let scheme = text.range(of: "://") else { return false }
            let name = text[..<scheme.lowerBound]
            return ["nats", "tls"].contains(name) && text[scheme.upperBound...].count > 0
        }

        /// The client's settings; relative paths resolved against the configuration's directory.
        func settings(name: String, resolve: (String) -> String) -> NatsSettings {
            var s = NatsSettings(servers: servers, name: "graph-collector \(name)")
            s.credentials = auth?.credentials(resolve: resolve) ?? .none
            s.connectTimeout = connectTimeout.duration
            s.reconnectWait = reconnectWait.duration
            if useTLS { s.tls = (tls ?? TLS()).settings(resolve: resolve) }
            return s
        }
    }
}
