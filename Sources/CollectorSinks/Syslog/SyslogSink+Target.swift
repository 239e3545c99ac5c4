public import CollectorCore
public import EventFormats

#if canImport(Glibc)
    import Glibc
#endif

extension SyslogSink {
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
}
