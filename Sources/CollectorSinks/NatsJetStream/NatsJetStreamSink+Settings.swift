public import CollectorCore
public import NatsClient

extension NatsJetStreamSink {
    /// `auth:` one way to prove who the collector is; secrets by `${ENV}` or `x_file`.
    public struct Auth: Decodable, Sendable {
        public var user: String?
        public var password: Secret?
        public var token: Secret?
        /// A `.creds` file: user JWT and NKey seed, as `nsc` writes it.
        public var credentialsFile: String?
        /// A user NKey's public key (`U...`) and the file holding its seed.
        public var nkey: String?
        public var nkeySeedFile: String?

        enum CodingKeys: String, CodingKey {
            case user, password, token, nkey
            case credentialsFile = "credentials_file"
            case nkeySeedFile = "nkey_seed_file"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            user = try c.decodeIfPresent(String.self, forKey: .user)
            password = try c.decodeIfPresent(Secret.self, forKey: .password)
            token = try c.decodeIfPresent(Secret.self, forKey: .token)
            credentialsFile = try c.decodeIfPresent(String.self, forKey: .credentialsFile)
            nkey = try c.decodeIfPresent(String.self, forKey: .nkey)
            nkeySeedFile = try c.decodeIfPresent(String.self, forKey: .nkeySeedFile)
            let ways = [
                user != nil || password != nil, token != nil, credentialsFile != nil,
                nkey != nil || nkeySeedFile != nil,
            ]
            guard ways.filter({ $0 }).count <= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .user, in: c,
                    debugDescription: "use one of user/password, token, credentials_file or nkey/nkey_seed_file")
            }
            if (user == nil) != (password == nil) {
                throw DecodingError.dataCorruptedError(
                    forKey: user == nil ? .password : .user, in: c, debugDescription: "user and password go together")
            }
            if (nkey == nil) != (nkeySeedFile == nil) {
                throw DecodingError.dataCorruptedError(
                    forKey: nkey == nil ? .nkeySeedFile : .nkey, in: c,
                    debugDescription: "nkey (the public key) and nkey_seed_file go together")
            }
        }

        public func credentials(resolve: (String) -> String) -> NatsSettings.Credentials {
            if let user, let password { return .userPassword(user: user, password: password.reveal()) }
            if let token { return .token(token.reveal()) }
            if let credentialsFile { return .credentialsFile(resolve(credentialsFile)) }
            if let nkey, let nkeySeedFile { return .nkey(publicKey: nkey, seedFile: resolve(nkeySeedFile)) }
            return .none
        }
    }

    /// `tls:` towards the NATS servers, for the sink and for a fleet's `coordination:`. The
    /// server's certificate is verified unless `verify: false`.
    public struct TLS: Decodable, Sendable {
        public var caFile: String?
        public var clientCertificate: String?
        public var clientKey: String?
        /// The name the server's certificate must carry, when it is not the URL's host.
        public var serverName: String?
        public var verify = true

        enum CodingKeys: String, CodingKey {
            case caFile = "ca_file"
            case clientCertificate = "client_certificate"
            case clientKey = "client_key"
            case serverName = "server_name"
            case verify
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            clientCertificate = try c.decodeIfPresent(String.self, forKey: .clientCertificate)
            clientKey = try c.decodeIfPresent(String.self, forKey: .clientKey)
            serverName = try c.decodeIfPresent(String.self, forKey: .serverName)
            verify = try c.decodeIfPresent(Bool.self, forKey: .verify) ?? verify
            if clientKey != nil && clientCertificate == nil {
                throw DecodingError.dataCorruptedError(
                    forKey: .clientKey, in: c, debugDescription: "client_key needs client_certificate")
            }
        }

        public init() {}

        /// The client's TLS settings; relative paths resolved against the configuration's directory.
        public func settings(resolve: (String) -> String) -> NatsSettings.TLS {
            var tls = NatsSettings.TLS(
                caFile: caFile.map(resolve), certificateFile: clientCertificate.map(resolve),
                keyFile: clientKey.map(resolve))
            tls.serverName = serverName
            tls.verify = verify
            return tls
        }
    }

    /// `stream:` the stream to create at start, or check when it exists.
    public struct Stream: Decodable, Sendable {
        public var name: String
        public var subjects: [String]
        public var replicas = 1
        public var maxAge: ConfigDuration?
        public var duplicateWindow = ConfigDuration.seconds(600)

        enum CodingKeys: String, CodingKey {
            case name, subjects, replicas
            case maxAge = "max_age"
            case duplicateWindow = "duplicate_window"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            guard !name.isEmpty, !name.contains(where: { ".*> \t/\\".contains($0) || $0.isNewline }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .name, in: c, debugDescription: "'\(name)' is not a stream name (no . * > / \\ or spaces)")
            }
            subjects = try c.decode([String].self, forKey: .subjects)
            guard !subjects.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .subjects, in: c, debugDescription: "name at least one subject")
            }
            for subject in subjects {
                if let problem = NatsSubject.problem(with: subject, wildcards: true) {
                    throw DecodingError.dataCorruptedError(forKey: .subjects, in: c, debugDescription: problem)
                }
            }
            replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? replicas
            guard (1...5).contains(replicas) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .replicas, in: c, debugDescription: "replicas must be 1 to 5")
            }
            maxAge = try c.decodeIfPresent(ConfigDuration.self, forKey: .maxAge)
            duplicateWindow = try c.decodeIfPresent(ConfigDuration.self, forKey: .duplicateWindow) ?? duplicateWindow
            guard duplicateWindow.seconds >= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .duplicateWindow, in: c, debugDescription: "the duplicate window must be at least 1s")
            }
            if let maxAge, maxAge.seconds < duplicateWindow.seconds {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxAge, in: c,
                    debugDescription: "max_age (\(maxAge)) must be at least the duplicate_window (\(duplicateWindow))")
            }
        }

        var specification: JetStreamConnection.StreamSpecification {
            .init(
                name: name, subjects: subjects, replicas: replicas, maxAge: maxAge?.duration,
                duplicateWindow: duplicateWindow.duration)
        }
    }
}
