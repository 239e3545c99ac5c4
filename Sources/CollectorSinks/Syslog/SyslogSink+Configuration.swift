public import CollectorCore
public import EventFormats

#if canImport(Glibc)
    import Glibc
#endif

extension SyslogSink {
    public enum Transport: String, Decodable, Sendable, CaseIterable {
        case udp, tcp, tls
    }

    public enum PayloadFormat: String, Decodable, Sendable, CaseIterable {
        /// IBM LEEF 1.0 or 2.0 (`leef:` settings).
        case leef
        /// The normalized event as one JSON object (the README's event schema).
        case json
    }

    /// `host:port` of a receiver; IPv6 literals in brackets (`[::1]:6514`).
    public struct Target: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public init?(parsing text: String, defaultPort: Int) {
            var host = Substring(text)
            var port = defaultPort
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { return nil }
                let rest = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
                    port = p
                }
            } else if let colon = host.lastIndex(of: ":") {
                if host.firstIndex(of: ":") != colon { return nil }  // bare IPv6 needs brackets
                guard let p = Int(host[host.index(after: colon)...]) else { return nil }
                port = p
                host = host[..<colon]
            }
            // A host name or an IP address: nothing that would change a URL's meaning.
            let allowed = host.unicodeScalars.allSatisfy {
                $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "-" || $0 == ":"
                    || $0 == "_" || $0 == "%"
            }
            guard !host.isEmpty, allowed, (1...65535).contains(port) else { return nil }
            self.host = String(host)
            self.port = port
        }
    }

    public struct TLSSettings: Decodable, Sendable, Hashable {
        /// CA bundle (PEM) that signs the receiver's certificate; the system store when nil.
        public var caFile: String?
        /// Client certificate (PEM) for mutual TLS.
        public var clientCertificate: String?
        /// The client certificate's private key (PEM).
        public var clientKey: String?
        /// Verify the receiver's certificate and name (on by default; turn off only to test).
        public var verify: Bool
        /// The name the receiver's certificate must carry, when it differs from the target host.
        public var serverName: String?

        enum CodingKeys: String, CodingKey {
            case caFile = "ca_file"
            case clientCertificate = "client_certificate"
            case clientKey = "client_key"
            case verify
            case serverName = "server_name"
        }

        public init(
            caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, verify: Bool = true,
            serverName: String? = nil
        ) {
            self.caFile = caFile
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.verify = verify
            self.serverName = serverName
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            clientCertificate = try c.decodeIfPresent(String.self, forKey: .clientCertificate)
            clientKey = try c.decodeIfPresent(String.self, forKey: .clientKey)
            verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? true
            serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
            if (clientCertificate == nil) != (clientKey == nil) {
                throw DecodingError.dataCorruptedError(
                    forKey: clientCertificate == nil ? .clientKey : .clientCertificate, in: c,
                    debugDescription: "client_certificate and client_key go together (mutual TLS needs both)")
            }
        }
    }

    public struct Configuration: Decodable, Sendable {
        public var transport: Transport
        /// The receivers: the first is the primary, the others are tried in order when it fails.
        public var targets: [Target]
        public var framing: SyslogFraming
        public var format: PayloadFormat
        public var header: SyslogHeader
        public var leef: LEEFFormat
        /// The longest message (syslog header and payload, without framing) sent.
        public var maxMessageSize: Int
        public var connectTimeout: ConfigDuration
        public var writeTimeout: ConfigDuration
        public var keepalive: ConfigDuration?
        /// After this long on a failover target, go back to the primary (if it answers).
        public var failbackAfter: ConfigDuration
        /// After a lost connection, resend what was sent this recently (at least the last batch); nil: never.
        public var resendWindow: ConfigDuration?
        public var tls: TLSSettings

        enum CodingKeys: String, CodingKey {
            case transport, targets, target, framing, format, header, facility, hostname
            case appName = "app_name"
            case syslogSeverityMap = "syslog_severity_map"
            case leef
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
            transport: Transport = .tcp, targets: [Target], format: PayloadFormat = .leef,
            framing: SyslogFraming? = nil, header: SyslogHeader? = nil, leef: LEEFFormat = LEEFFormat(),
            maxMessageSize: Int? = nil, tls: TLSSettings = TLSSettings()
        ) {
            self.transport = transport
            self.targets = targets
            self.framing = framing ?? (transport == .tls ? .octetCounting : .lf)
            self.format = format
            self.header =
                header
                ?? SyslogHeader(style: format == .leef ? .rfc5424Minimal : .rfc5424, hostname: Self.localHostname())
            self.leef = leef
            self.maxMessageSize = maxMessageSize ?? (transport == .udp ? 2048 : 8192)
            connectTimeout = .seconds(10)
            writeTimeout = .seconds(30)
            keepalive = .seconds(60)
            failbackAfter = .seconds(600)
            resendWindow = .seconds(1)
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
            format = try c.decodeIfPresent(PayloadFormat.self, forKey: .format) ?? .leef
            let style =
                try c.decodeIfPresent(SyslogHeader.Style.self, forKey: .header)
                ?? (format == .leef ? .rfc5424Minimal : .rfc5424)
            header = try Self.decodeHeader(c, style: style)
            leef = try c.decodeIfPresent(LEEFSettings.self, forKey: .leef)?.format ?? LEEFFormat()
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
            connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? .seconds(10)
            writeTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .writeTimeout) ?? .seconds(30)
            for (key, value) in [(CodingKeys.connectTimeout, connectTimeout), (.writeTimeout, writeTimeout)]
            where value.seconds < 0.001 {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: "must be longer than 0 (for example 10s)")
            }
            if c.contains(.keepalive), try c.decodeNil(forKey: .keepalive) {
                keepalive = nil
            } else {
                keepalive = try c.decodeIfPresent(ConfigDuration.self, forKey: .keepalive) ?? .seconds(60)
                if keepalive?.seconds == 0 { keepalive = nil }
            }
            failbackAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .failbackAfter) ?? .seconds(600)
            if c.contains(.resendWindow), try c.decodeNil(forKey: .resendWindow) {
                resendWindow = nil
            } else {
                resendWindow = try c.decodeIfPresent(ConfigDuration.self, forKey: .resendWindow) ?? .seconds(1)
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
                appName: try c.decodeIfPresent(String.self, forKey: .appName) ?? "graph-collector",
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

    /// The `leef:` block of the configuration.
    struct LEEFSettings: Decodable {
        var format: LEEFFormat

        enum CodingKeys: String, CodingKey {
            case version, delimiter, vendor, product
            case productVersion = "product_version"
            case eventID = "event_id"
            case providerWarningEventID = "provider_warning_event_id"
            case healthEventID = "health_event_id"
            case severityMap = "severity_map"
            case defaultSeverity = "default_severity"
            case devTimeFormat = "dev_time_format"
            case fields
            case rawFields = "raw_fields"
            case markTruncation = "mark_truncation"
        }

        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            var format = LEEFFormat()
            if let version = try c.decodeIfPresent(String.self, forKey: .version) {
                guard let v = LEEFFormat.Version(rawValue: version == "1" ? "1.0" : version == "2" ? "2.0" : version)
                else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .version, in: c,
                        debugDescription: "LEEF version is \"1.0\" or \"2.0\", not '\(version)'")
                }
                format.version = v
            }
            if let text = try c.decodeIfPresent(String.self, forKey: .delimiter) {
                guard format.version == .v2 else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .delimiter, in: c,
                        debugDescription: "LEEF 1.0 always uses a tab; a delimiter needs version \"2.0\"")
                }
                guard let d = LEEFFormat.parseDelimiter(text) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .delimiter, in: c,
                        debugDescription: "'\(text)' is not one ASCII character, 'tab', or hex like x5E")
                }
                format.delimiter = d
            }
            if format.version == .v1 { format.delimiter = 0x09 }
            format.vendor = try c.decodeIfPresent(String.self, forKey: .vendor) ?? format.vendor
            format.product = try c.decodeIfPresent(String.self, forKey: .product) ?? format.product
            format.productVersion = try c.decodeIfPresent(String.self, forKey: .productVersion) ?? format.productVersion
            if let template = try c.decodeIfPresent(String.self, forKey: .eventID) {
                do { format.alertEventID = try EventIDTemplate(template) } catch {
                    throw DecodingError.dataCorruptedError(forKey: .eventID, in: c, debugDescription: error.description)
                }
            }
            format.providerWarningEventID =
                try c.decodeIfPresent(String.self, forKey: .providerWarningEventID) ?? format.providerWarningEventID
            format.healthEventID = try c.decodeIfPresent(String.self, forKey: .healthEventID) ?? format.healthEventID
            if let map = try c.decodeIfPresent([String: Int].self, forKey: .severityMap) {
                for (k, v) in map { format.severityMap[k.lowercased()] = v }
            }
            format.defaultSeverity = try c.decodeIfPresent(Int.self, forKey: .defaultSeverity) ?? format.defaultSeverity
            if let pattern = try c.decodeIfPresent(String.self, forKey: .devTimeFormat) {
                do { format.devTimeFormat = try JavaDateFormat(pattern) } catch {
                    throw DecodingError.dataCorruptedError(
                        forKey: .devTimeFormat, in: c, debugDescription: error.description)
                }
            }
            try Self.decodeFieldMaps(c, into: &format)
            format.markTruncation = try c.decodeIfPresent(Bool.self, forKey: .markTruncation) ?? true
            let problems = format.problems()
            if !problems.isEmpty {
                let first = problems[0]
                let key: CodingKeys =
                    first.hasPrefix("delimiter")
                    ? .delimiter
                    : first.hasPrefix("severity_map")
                        ? .severityMap
                        : first.hasPrefix("default_severity")
                            ? .defaultSeverity : first.hasPrefix("raw_fields") ? .rawFields : .fields
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: c, debugDescription: problems.joined(separator: "; "))
            }
            self.format = format
        }

        /// `fields` (rename or drop a built-in attribute) and `raw_fields` (add one from the
        /// alert's Graph JSON by pointer).
        static func decodeFieldMaps(_ c: KeyedDecodingContainer<CodingKeys>, into format: inout LEEFFormat) throws {
            if c.contains(.fields), try !c.decodeNil(forKey: .fields) {
                let fields = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .fields)
                for key in fields.allKeys {
                    guard let field = LEEFField(rawValue: key.stringValue) else {
                        let names = LEEFField.allCases.map(\.rawValue)
                        throw DecodingError.dataCorruptedError(
                            forKey: key, in: fields,
                            debugDescription:
                                "no built-in field '\(key.stringValue)'"
                                + (Suggestion.nearest(to: key.stringValue, in: names).map { "; did you mean '\($0)'?" }
                                    ?? "; fields are " + names.joined(separator: ", ")))
                    }
                    if try fields.decodeNil(forKey: key) {
                        format.fieldKeys[field] = .some(nil)
                    } else {
                        format.fieldKeys[field] = .some(try fields.decode(String.self, forKey: key))
                    }
                }
            }
            if c.contains(.rawFields), try !c.decodeNil(forKey: .rawFields) {
                let raw = try c.nestedContainer(keyedBy: AnyKey.self, forKey: .rawFields)
                for key in raw.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                    let text = try raw.decode(String.self, forKey: key)
                    guard let pointer = JSONPointer(text) else {
                        throw DecodingError.dataCorruptedError(
                            forKey: key, in: raw,
                            debugDescription: "'\(text)' is not a JSON pointer; write it like /evidence/0/ipAddress")
                    }
                    format.rawFields.append((key.stringValue, pointer))
                }
            }
        }
    }
}
