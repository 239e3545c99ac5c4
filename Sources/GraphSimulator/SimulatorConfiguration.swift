public import CollectorCore

/// What the built-in Graph simulator serves, and which faults it injects.
public struct SimulatorConfiguration: Sendable, Decodable {
    /// One provider failing behind the federated v1 `/security/alerts` (206 + `Warning`).
    public struct FailingProvider: Sendable, Decodable, Hashable {
        public var provider: String
        /// The status Graph reports for it (403, 504, …).
        public var status: Int
        /// How many answers it fails in before it recovers; nil: it never does.
        public var failures: Int?
        public var latencyMilliseconds: Int

        enum CodingKeys: String, CodingKey {
            case provider, status, failures
            case latencyMilliseconds = "latency_ms"
        }

        public init(provider: String, status: Int, failures: Int? = nil, latencyMilliseconds: Int = 10) {
            self.provider = provider
            self.status = status
            self.failures = failures
            self.latencyMilliseconds = latencyMilliseconds
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            provider = try c.decode(String.self, forKey: .provider)
            status = try c.decode(Int.self, forKey: .status)
            failures = try c.decodeIfPresent(Int.self, forKey: .failures)
            latencyMilliseconds =
                try c.decodeIfPresent(Int.self, forKey: .latencyMilliseconds) ?? (status == 504 ? 10_000 : 10)
        }
    }

    public var tenantId = "5f1c7d3e-2a4b-4c6d-8e9f-0a1b2c3d4e5f"
    /// How many tenants the simulator serves (``tenantIds``), each with the data below.
    public var tenants = 1
    /// Keep a log of the API requests (tenant, User-Agent, time) for ``GraphSimulator/requests``.
    public var recordRequests = false
    public var clientId = "simulator-client"
    public var clientSecret = "simulator-secret"
    /// The app's registered certificate (PEM): client assertions must be signed with its key.
    public var clientCertificate: String?
    /// Alerts already there when the simulator starts, spread over `history`.
    public var alertsV2 = 2000
    public var alertsV1 = 500
    public var incidents = 100
    public var history: ConfigDuration = .seconds(3 * 86_400)
    /// New alerts per second while running (each endpoint), and when an alert gets its update.
    public var arrivalRate: Double = 0
    public var updateAfter: ConfigDuration = .seconds(60)
    /// Alerts become visible this long after their last update (Graph's ingestion delay).
    public var ingestionDelay: ConfigDuration = .seconds(0)
    public var providers = [
        "Microsoft Defender ATP", "Azure Advanced Threat Protection", "MCAS", "IPC", "ASC", "Azure Sentinel",
    ]
    public var failingProviders: [FailingProvider] = []
    public var tokenLifetime: ConfigDuration = .seconds(3599)
    /// Every Nth API request answers 429 with `Retry-After: 1`.
    public var throttleEvery: Int?
    /// More than this many API requests in 60 s answer 429 (Graph's 150/min for security alerts).
    public var rateLimitPerMinute: Int?
    /// Every Nth API request answers 503.
    public var serverErrorEvery: Int?
    /// Every Nth API request answers 200 with its body cut in half.
    public var truncateEvery: Int?
    /// Every Nth v1 request that follows a nextLink answers 400 "Query option 'SkipToken' is not allowed".
    public var rejectSkipTokenEvery: Int?
    public var pageDelay: ConfigDuration = .seconds(0)
    /// Every Nth API request answers 401 "token expired", as if the token had been revoked mid-paging.
    public var revokeTokenEvery: Int?
    /// A lower `$top` limit than Graph's, to exercise the collector lowering its page size.
    public var maxPageSize: Int?
    public var seed: UInt64 = 42

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tenantId = "tenant_id"
        case clientId = "client_id"
        case tenants
        case clientSecret = "client_secret"
        case alertsV2 = "alerts_v2"
        case clientCertificate = "client_certificate"
        case alertsV1 = "alerts_v1"
        case incidents, history
        case arrivalRate = "arrival_rate"
        case updateAfter = "update_after"
        case ingestionDelay = "ingestion_delay"
        case providers
        case failingProviders = "failing_providers"
        case tokenLifetime = "token_lifetime"
        case throttleEvery = "throttle_every"
        case rateLimitPerMinute = "rate_limit_per_minute"
        case serverErrorEvery = "server_error_every"
        case truncateEvery = "truncate_every"
        case rejectSkipTokenEvery = "reject_skip_token_every"
        case pageDelay = "page_delay"
        case seed
        case revokeTokenEvery = "revoke_token_every"
        case maxPageSize = "max_page_size"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SimulatorConfiguration()
        tenantId = try c.decodeIfPresent(String.self, forKey: .tenantId) ?? d.tenantId
        clientId = try c.decodeIfPresent(String.self, forKey: .clientId) ?? d.clientId
        tenants = try c.decodeIfPresent(Int.self, forKey: .tenants) ?? d.tenants
        guard (1...100_000).contains(tenants) else {
            throw DecodingError.dataCorruptedError(
                forKey: .tenants, in: c, debugDescription: "tenants must be from 1 to 100000")
        }
        clientSecret = try c.decodeIfPresent(String.self, forKey: .clientSecret) ?? d.clientSecret
        clientCertificate = try c.decodeIfPresent(String.self, forKey: .clientCertificate)
        alertsV2 = try c.decodeIfPresent(Int.self, forKey: .alertsV2) ?? d.alertsV2
        alertsV1 = try c.decodeIfPresent(Int.self, forKey: .alertsV1) ?? d.alertsV1
        incidents = try c.decodeIfPresent(Int.self, forKey: .incidents) ?? d.incidents
        history = try c.decodeIfPresent(ConfigDuration.self, forKey: .history) ?? d.history
        arrivalRate = try c.decodeIfPresent(Double.self, forKey: .arrivalRate) ?? d.arrivalRate
        guard arrivalRate.isFinite, (0...100_000).contains(arrivalRate) else {
            throw DecodingError.dataCorruptedError(
                forKey: .arrivalRate, in: c, debugDescription: "arrival_rate must be from 0 to 100000 alerts per second"
            )
        }
        for (key, count) in [(CodingKeys.alertsV2, alertsV2), (.alertsV1, alertsV1), (.incidents, incidents)]
        where !(0...10_000_000).contains(count) {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: c,
                debugDescription: "\(key.stringValue) must be from 0 to 10000000 (the simulator keeps them in memory)")
        }
        updateAfter = try c.decodeIfPresent(ConfigDuration.self, forKey: .updateAfter) ?? d.updateAfter
        ingestionDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .ingestionDelay) ?? d.ingestionDelay
        providers = try c.decodeIfPresent([String].self, forKey: .providers) ?? d.providers
        failingProviders = try c.decodeIfPresent([FailingProvider].self, forKey: .failingProviders) ?? []
        tokenLifetime = try c.decodeIfPresent(ConfigDuration.self, forKey: .tokenLifetime) ?? d.tokenLifetime
        throttleEvery = try c.decodeIfPresent(Int.self, forKey: .throttleEvery)
        rateLimitPerMinute = try c.decodeIfPresent(Int.self, forKey: .rateLimitPerMinute)
        serverErrorEvery = try c.decodeIfPresent(Int.self, forKey: .serverErrorEvery)
        truncateEvery = try c.decodeIfPresent(Int.self, forKey: .truncateEvery)
        rejectSkipTokenEvery = try c.decodeIfPresent(Int.self, forKey: .rejectSkipTokenEvery)
        pageDelay = try c.decodeIfPresent(ConfigDuration.self, forKey: .pageDelay) ?? d.pageDelay
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        revokeTokenEvery = try c.decodeIfPresent(Int.self, forKey: .revokeTokenEvery)
        maxPageSize = try c.decodeIfPresent(Int.self, forKey: .maxPageSize)
        for key in [
            CodingKeys.throttleEvery, .serverErrorEvery, .truncateEvery, .rejectSkipTokenEvery, .revokeTokenEvery,
            .maxPageSize,
        ] {
            if let n = try c.decodeIfPresent(Int.self, forKey: key), n < 1 {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be at least 1")
            }
        }
    }
}
