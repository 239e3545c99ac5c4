import CNats

#if canImport(Glibc)
    import Glibc
#endif

/// Where and how to connect to NATS: servers to fail over between, TLS and credentials.
/// Secrets are plain strings here; the configuration layer keeps them redacted until now.
public struct NatsSettings: Sendable {
    /// How the client proves who it is.
    public enum Credentials: Sendable {
        case none
        case userPassword(user: String, password: String)
        case token(String)
        /// A `.creds` file (user JWT and NKey seed), as `nsc` writes it.
        case credentialsFile(String)
        /// A user NKey: its public key and the file holding its seed.
        case nkey(publicKey: String, seedFile: String)
    }

    /// TLS towards the servers. The server's certificate is verified unless `verify` is false.
    public struct TLS: Sendable {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
        public var verify = true
        /// The name the server's certificate must carry, when it is not the host of the URL.
        public var serverName: String?

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public var servers: [String]
    /// The connection's name in the server's monitoring (`/connz`).
    public var name: String
    public var credentials: Credentials = .none
    public var tls: TLS?
    public var connectTimeout: Duration = .seconds(5)
    /// The pause between attempts to reconnect to one server; attempts never stop.
    public var reconnectWait: Duration = .seconds(1)
    /// JetStream API requests (stream lookups and creation).
    public var requestTimeout: Duration = .seconds(5)

    public init(servers: [String], name: String) {
        self.servers = servers
        self.name = name
    }

    /// The C client's options for these settings; the caller destroys them.
    func makeOptions() throws(NatsError) -> OpaquePointer {
        var options: OpaquePointer?
        try check("preparing the connection options", natsOptions_Create(&options))
        guard let options else { throw NatsError(operation: "preparing the connection options", status: "no memory") }
        do {
            try apply(to: options)
            return options
        } catch {
            natsOptions_Destroy(options)
            throw error
        }
    }

    private func apply(to options: OpaquePointer) throws(NatsError) {
        try withCStrings(servers) { list, count throws(NatsError) in
            try check("setting the servers \(servers)", natsOptions_SetServers(options, list, Int32(count)))
        }
        try check("naming the connection", natsOptions_SetName(options, name))
        try check("setting the connect timeout", natsOptions_SetTimeout(options, connectTimeout.milliseconds))
        try check("setting reconnection", natsOptions_SetMaxReconnect(options, -1))
        try check("setting the reconnect wait", natsOptions_SetReconnectWait(options, reconnectWait.milliseconds))
        switch credentials {
        case .none: break
        case .userPassword(let user, let password):
            try check("setting the user", natsOptions_SetUserInfo(options, user, password))
        case .token(let token):
            try check("setting the token", natsOptions_SetToken(options, token))
        case .credentialsFile(let path):
            try check(
                "reading the credentials file \(path)", natsOptions_SetUserCredentialsFromFiles(options, path, nil))
        case .nkey(let publicKey, let seedFile):
            try check(
                "reading the NKey seed file \(seedFile)", natsOptions_SetNKeyFromSeed(options, publicKey, seedFile))
        }
        if let tls { try apply(tls, to: options) }
    }

    private func apply(_ tls: TLS, to options: OpaquePointer) throws(NatsError) {
        try check("turning TLS on", natsOptions_SetSecure(options, true))
        if let ca = tls.caFile {
            try check("reading the CA file \(ca)", natsOptions_LoadCATrustedCertificates(options, ca))
        }
        if let certificate = tls.certificateFile {
            try check(
                "reading the client certificate \(certificate) and key \(tls.keyFile ?? certificate)",
                natsOptions_LoadCertificatesChain(options, certificate, tls.keyFile ?? certificate))
        }
        if let serverName = tls.serverName {
            try check("setting the expected server name", natsOptions_SetExpectedHostname(options, serverName))
        }
        if !tls.verify {
            try check("turning certificate verification off", natsOptions_SkipServerVerification(options, true))
        }
    }
}

/// Throws a ``NatsError`` for any status but `NATS_OK`.
func check(_ operation: @autoclosure () -> String, _ status: natsStatus, code: jsErrCode = jsErrCode(0))
    throws(NatsError)
{
    guard status != NATS_OK else { return }
    throw NatsError(operation(), status, code: code)
}

/// Calls `body` with a C array of C strings that lives for the call.
func withCStrings<R, E: Error>(
    _ strings: [String], _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, Int) throws(E) -> R
) throws(E) -> R {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    var pointers = copies.map { UnsafePointer<CChar>($0) }
    return try pointers.withUnsafeMutableBufferPointer { buffer throws(E) -> R in
        try body(buffer.baseAddress!, buffer.count)
    }
}

extension Duration {
    /// Whole milliseconds, as the C client takes its timeouts.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, as JetStream's stream configuration takes its ages.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
