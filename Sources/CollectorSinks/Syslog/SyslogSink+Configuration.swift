public import CollectorCore
public import EventFormats

#if canImport(Glibc)
    import Glibc
#endif

extension SyslogSink {
    public enum Transport: String, Decodable, Sendable, CaseIterable {
        case udp, tcp, tls
    }

    public struct Configuration: Decodable, Sendable {
        public var transport: Transport
        /// The receivers: the first is the primary, the others are tried in order when it fails.
        public var targets: [Target]
        public var framing: SyslogFraming
        /// `format:` and its settings block (LEEF by default).
        public var formats: EventFormatSettings
        public var format: EventFormatName {
            get { formats.name }
            set { formats.name = newValue }
        }
        public var header: SyslogHeader
        public var leef: LEEFFormat {
            get { formats.leef }
            set { formats.leef = newValue }
        }
        /// The longest message (syslog header and payload, without framing) sent.
        public var maxMessageSize: Int
        // The defaults that do not depend on the transport, declared once: decoding and the
        // `plugins` listing read them from here.
        public var connectTimeout: ConfigDuration = .seconds(10)
        public var writeTimeout: ConfigDuration = .seconds(30)
        public var keepalive: ConfigDuration? = .seconds(60)
        /// After this long on a failover target, go back to the primary (if it answers).
        public var failbackAfter: ConfigDuration = .seconds(600)
        /// After a lost connection, resend what was sent this recently (at least the last batch); nil: never.
        public var resendWindow: ConfigDuration? = .seconds(1)
        static let defaultAppName = "graph-collector"

        /// Every setting at its default, over TCP (the targets have none).
        static let defaults = Configuration(targets: [])
        public var tls: TLSSettings

        enum CodingKeys: String, CodingKey {
            case transport, targets, target, framing, format, header, facility, hostname
            case appName = "app_name"
            case syslogSeverityMap = "syslog_severity_map"
            case leef, cef, ocsf, ecs
            case maxMessageSize = "max_message_size"
            case connectTimeout = "connect_timeout"
            case writeTimeout = "write_timeout"
            case keepalive
            case failbackAfter = "failback_after"
            case resendWindow = "resend_window"
            case tls
        }

        /// Settings for code and tests: LEEF 2.0 over TCP with the defaults of the configuration file.
        public init(
            transport: Transport = .tcp, targets: [Target], format: EventFormatName = .leef,
            framing: SyslogFraming? = nil, header: SyslogHeader? = nil, leef: LEEFFormat = LEEFFormat(),
            maxMessageSize: Int? = nil, tls: TLSSettings = TLSSettings()
        ) {
            self.transport = transport
            self.targets = targets
            self.framing = framing ?? (transport == .tls ? .octetCounting : .lf)
            formats = EventFormatSettings(format)
            formats.leef = leef
            self.header =
                header
                ?? SyslogHeader(style: format == .leef ? .rfc5424Minimal : .rfc5424, hostname: Self.localHostname())
            self.maxMessageSize = maxMessageSize ?? (transport == .udp ? 2048 : 8192)
            self.tls = tls
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            transport = try c.decodeIfPresent(Transport.self, forKey: .transport) ?? .tcp
            let defaultPort = transport == .tls ? 6514 : 514
            targets = try Self.decodeTargets(c, defaultPort: defaultPort)
            framing =
                try c.decodeIfPresent(SyslogFraming.self, forKey: .framing)
                ?? (transport == .tls ? .octetCounting : .lf)
            if transport == .udp && c.contains(.framing) {
                throw DecodingError.dataCorruptedError(
                    forKey: .framing, in: c,
                    debugDescription:
                        "UDP sends one message per datagram and has no framing; remove 'framing' or use tcp/tls")
            }
            formats = try EventFormatSettings(from: decoder, default: .leef)
            let style =
                try c.decodeIfPresent(SyslogHeader.Style.self, forKey: .header)
                ?? (formats.name == .leef ? .rfc5424Minimal : .rfc5424)
            header = try Self.decodeHeader(c, style: style)
            if let size = try c.decodeIfPresent(ByteSize.self, forKey: .maxMessageSize) {
                guard size.bytes >= 480, size.bytes <= (transport == .udp ? 65_000 : 16_777_216) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .maxMessageSize, in: c,
                        debugDescription:
                            "must be between 480 bytes (RFC 5426's minimum) and \(transport == .udp ? "65000 for UDP" : "16MiB")"
                    )
                }
                maxMessageSize = Int(size.bytes)
            } else {
                maxMessageSize = transport == .udp ? 2048 : 8192
            }
            connectTimeout =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? Self.defaults.connectTimeout
            writeTimeout =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .writeTimeout) ?? Self.defaults.writeTimeout
            for (key, value) in [(CodingKeys.connectTimeout, connectTimeout), (.writeTimeout, writeTimeout)]
            where value.seconds < 0.001 {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "must be longer than 0 (for example 10s)")
            }
            if c.contains(.keepalive), try c.decodeNil(forKey: .keepalive) {
                keepalive = nil
            } else {
                keepalive = try c.decodeIfPresent(ConfigDuration.self, forKey: .keepalive) ?? Self.defaults.keepalive
                if keepalive?.seconds == 0 { keepalive = nil }
            }
            failbackAfter =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .failbackAfter) ?? Self.defaults.failbackAfter
            if c.contains(.resendWindow), try c.decodeNil(forKey: .resendWindow) {
                resendWindow = nil
            } else {
                resendWindow =
                    try c.decodeIfPresent(ConfigDuration.self, forKey: .resendWindow) ?? Self.defaults.resendWindow
            }
            tls = try c.decodeIfPresent(TLSSettings.self, forKey: .tls) ?? TLSSettings()
            if transport != .tls && c.contains(.tls) {
                throw DecodingError.dataCorruptedError(
                    forKey: .tls, in: c, debugDescription: "'tls' settings need 'transport: tls'")
            }
        }

        /// `target` and/or `targets`: host:port each, the first the primary.
        static func decodeTargets(_ c: KeyedDecodingContainer<CodingKeys>, defaultPort: Int) throws -> [Target] {
            var texts: [String] = []
            if let one = try c.decodeIfPresent(String.self, forKey: .target) { texts.append(one) }
            if let many = try c.decodeIfPresent([String].self, forKey: .targets) { texts.append(contentsOf: many) }
            guard !texts.isEmpty else {
                throw DecodingError.keyNotFound(
                    CodingKeys.targets,
                    DecodingError.Context(
                        codingPath: c.codingPath,
                        debugDescription:
                            "a syslog sink needs 'targets' (a list of host:port, the first is the primary)"))
            }
            return try texts.map { text in
                guard let t = Target(parsing: text, defaultPort: defaultPort) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: c.contains(.targets) ? .targets : .target, in: c,
                        debugDescription: "'\(text)' is not host:port (IPv6 in brackets: [::1]:\(defaultPort))")
                }
                return t
            }
        }

        /// The syslog header: facility, the Graph-severity → syslog-severity map, host and app names.
        static func decodeHeader(_ c: KeyedDecodingContainer<CodingKeys>, style: SyslogHeader.Style) throws
            -> SyslogHeader
        {
            var facility = 16
            if let name = try c.decodeIfPresent(String.self, forKey: .facility) {
                if let n = Int(name) {
                    facility = n
                } else if let n = SyslogHeader.facilities[name.lowercased()] {
                    facility = n
                } else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .facility, in: c,
                        debugDescription:
                            "unknown facility '\(name)'"
                            + (Suggestion.nearest(to: name, in: SyslogHeader.facilities.keys).map {
                                "; did you mean '\($0)'?"
                            } ?? "; use local0…local7, user, daemon, auth, … or 0–23"))
                }
            }
            var severityMap = SyslogHeader.defaultSeverityMap
            if let given = try c.decodeIfPresent([String: String].self, forKey: .syslogSeverityMap) {
                for (graph, value) in given {
                    if let n = Int(value) {
                        severityMap[graph.lowercased()] = n
                    } else if let n = SyslogHeader.severities[value.lowercased()] {
                        severityMap[graph.lowercased()] = n
                    } else {
                        throw DecodingError.dataCorruptedError(
                            forKey: .syslogSeverityMap, in: c,
                            debugDescription:
                                "\(graph): unknown syslog severity '\(value)'; use emergency, alert, critical, "
                                + "error, warning, notice, informational, debug or 0–7"
                        )
                    }
                }
            }
            let header = SyslogHeader(
                style: style, facility: facility,
                hostname: try c.decodeIfPresent(String.self, forKey: .hostname) ?? Self.localHostname(),
                appName: try c.decodeIfPresent(String.self, forKey: .appName) ?? Self.defaultAppName,
                processID: String(getpid()), severityMap: severityMap)
            let problems = header.problems()
            if !problems.isEmpty {
                let key: CodingKeys =
                    problems[0].hasPrefix("hostname")
                    ? .hostname
                    : problems[0].hasPrefix("app_name")
                        ? .appName : problems[0].hasPrefix("facility") ? .facility : .syslogSeverityMap
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: problems.joined(separator: "; "))
            }
            return header
        }

        /// The host's name as `gethostname` reports it.
        public static func localHostname() -> String {
            var buffer = [CChar](repeating: 0, count: 256)
            guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
            let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return name.isEmpty ? "localhost" : name
        }
    }

    public enum Plugin: SinkPlugin {
        public static let type = "syslog"
        public static let summary =
            "syslog to QRadar-style SIEMs: IBM LEEF 1.0/2.0 or JSON over UDP, TCP or TLS, RFC 5424/3164 headers"
        public static var options: [PluginOption] { messageOptions + connectionOptions }

        /// What is sent: transport, targets, framing, format and header.
        static var messageOptions: [PluginOption] {
            [
                PluginOption("transport", type: "udp | tcp | tls", default: "tcp", "how messages travel"),
                PluginOption(
                    "targets", type: "list of host:port", default: nil,
                    "receivers; the first is the primary, the others failover in order (default port 514, 6514 for tls)"
                ),
                PluginOption(
                    "framing", type: "octet-counting | lf", default: "octet-counting for tls, lf for tcp",
                    "stream framing (RFC 5425/6587); not for udp"),
                EventFormatSettings.option(default: .leef),
                PluginOption(
                    "header", type: "rfc5424-minimal | rfc5424 | rfc3164 | none",
                    default: "rfc5424-minimal for leef, rfc5424 for json", "syslog header before the payload"),
                PluginOption("facility", type: "name or 0–23", default: "local0", "syslog facility"),
                PluginOption(
                    "hostname", type: "string", default: "this host's name",
                    "HOSTNAME in the header: QRadar's log source identifier"),
                PluginOption(
                    "app_name", type: "string", default: Configuration.defaultAppName, "RFC 5424 APP-NAME, RFC 3164 TAG"
                ),
                PluginOption(
                    "syslog_severity_map", type: "map",
                    default:
                        "high: critical, medium: error, low: warning, informational: informational, unknown: notice",
                    "Graph severity to syslog severity"),
                PluginOption(
                    "max_message_size", type: "size", default: "8KiB (2048 for udp)",
                    "longest message (header + payload); longer LEEF events lose their least important attributes"),
            ]
        }

        /// Where and how messages travel: timeouts, failover, TLS.
        static var connectionOptions: [PluginOption] {
            let d = Configuration.defaults
            return [
                PluginOption(
                    "connect_timeout", type: "duration", default: "\(d.connectTimeout)",
                    "give up connecting to one target after this"),
                PluginOption(
                    "write_timeout", type: "duration", default: "\(d.writeTimeout)",
                    "a receiver that takes no data for this long counts as down"),
                PluginOption(
                    "keepalive", type: "duration or null", default: d.keepalive.map { "\($0)" } ?? "null",
                    "TCP keep-alive idle time; null turns it off"),
                PluginOption(
                    "failback_after", type: "duration", default: "\(d.failbackAfter)",
                    "on a failover target, try the primary again after this"),
                PluginOption(
                    "resend_window", type: "duration or null", default: d.resendWindow.map { "\($0)" } ?? "null",
                    "after a lost connection, send again what was sent this recently (at least the last batch): "
                        + "duplicates over loss; null turns it off"
                ),
                PluginOption(
                    "ca_file", type: "path (under tls:)", default: "system store",
                    "CA bundle that signs the receiver's certificate"),
                PluginOption(
                    "client_certificate", type: "path (under tls:)", default: "none",
                    "client certificate for mutual TLS"),
                PluginOption("client_key", type: "path (under tls:)", default: "none", "its private key"),
                PluginOption(
                    "verify", type: "bool (under tls:)", default: "true", "verify the receiver's certificate and name"),
                PluginOption(
                    "server_name", type: "string (under tls:)", default: "the target host",
                    "name the receiver's certificate must carry"),
                PluginOption("version", type: "\"1.0\" | \"2.0\" (under leef:)", default: "\"2.0\"", "LEEF version"),
                PluginOption(
                    "delimiter", type: "char, tab or xHH (under leef:)", default: "^",
                    "LEEF 2.0 attribute delimiter (1.0: tab)"),
                PluginOption("vendor", type: "string (under leef:)", default: "graph-collector", "LEEF header Vendor"),
                PluginOption(
                    "product", type: "string (under leef:)", default: "Microsoft Graph Security", "LEEF header Product"),
                PluginOption(
                    "product_version", type: "string (under leef:)", default: "\"1.0\"", "LEEF header Version"),
                PluginOption(
                    "event_id", type: "template (under leef:)", default: "{title}",
                    "alert EventID: {title} {category} {kind} {severity} {provider} {vendor} {status} {detection_source} "
                        + "{service_source} {detector_id}"
                ),
                PluginOption(
                    "provider_warning_event_id", type: "string (under leef:)", default: "ProviderWarning",
                    "EventID of provider warnings"),
                PluginOption(
                    "health_event_id", type: "string (under leef:)", default: "CollectorHealth",
                    "EventID of collector health events"),
                PluginOption(
                    "severity_map", type: "map (under leef:)",
                    default: "informational: 2, low: 3, medium: 5, high: 8, unknown: 4",
                    "Graph severity to LEEF sev (1–10)"
                ),
                PluginOption(
                    "default_severity", type: "1–10 (under leef:)", default: "5", "sev for severities not in the map"),
                PluginOption(
                    "dev_time_format", type: "Java date pattern (under leef:)", default: "none: epoch milliseconds",
                    "format devTime and send devTimeFormat"),
                PluginOption(
                    "fields", type: "map (under leef:)", default: "IBM keys",
                    "rename (usr_name: userName) or drop (description: null) built-in attributes"),
                PluginOption(
                    "raw_fields", type: "map (under leef:)", default: "none",
                    "extra attributes from the raw Graph alert: key: /json/pointer"),
                PluginOption(
                    "mark_truncation", type: "bool (under leef:)", default: "true",
                    "a truncated event carries truncated=<attributes dropped>"),
            ]
        }

        public static func makeSink(configuration: Configuration, context: SinkContext) async throws -> any Sink {
            var config = configuration
            config.tls.caFile = context.resolve(config.tls.caFile)
            config.tls.clientCertificate = context.resolve(config.tls.clientCertificate)
            config.tls.clientKey = context.resolve(config.tls.clientKey)
            return SyslogSink(configuration: config, logger: context.logger, name: context.name)
        }
    }
}
