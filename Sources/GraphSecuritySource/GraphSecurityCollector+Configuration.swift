public import CollectorCore
import CollectorSystem
import CurlTransport
import Foundation
import Logging

extension GraphSecurityCollector {
    public struct Tenant: Decodable, Sendable {
        public var tenantId: String
        public var clientId: String
        public var clientSecret: Secret?
        /// Certificate sign-in: the certificate and its private key (PEM), usually given as
        /// `certificate_file` and `private_key_file`.
        public var signer: ClientAssertionSigner?

        enum CodingKeys: String, CodingKey {
            case tenantId = "tenant_id"
            case clientId = "client_id"
            case clientSecret = "client_secret"
            case certificate
            case privateKey = "private_key"
            case privateKeyPassword = "private_key_password"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tenantId = try c.decode(String.self, forKey: .tenantId)
            clientId = try c.decode(String.self, forKey: .clientId)
            clientSecret = try c.decodeIfPresent(Secret.self, forKey: .clientSecret)
            let certificate = try c.decodeIfPresent(String.self, forKey: .certificate)
            let key = try c.decodeIfPresent(Secret.self, forKey: .privateKey)
            let password = try c.decodeIfPresent(Secret.self, forKey: .privateKeyPassword)
            switch (clientSecret, certificate, key) {
            case (_?, nil, nil):
                signer = nil
            case (nil, let cert?, let key?):
                do {
                    signer = try ClientAssertionSigner(
                        certificatePEM: cert, privateKeyPEM: key.reveal(), password: password)
                } catch {
                    throw DecodingError.dataCorruptedError(
                        forKey: .certificate, in: c, debugDescription: error.description)
                }
            case (nil, nil, nil):
                throw DecodingError.keyNotFound(
                    CodingKeys.clientSecret,
                    .init(
                        codingPath: c.codingPath,
                        debugDescription:
                            "give client_secret (or client_secret_file), or certificate_file and private_key_file"))
            case (_?, _, _):
                throw DecodingError.dataCorruptedError(
                    forKey: .clientSecret, in: c,
                    debugDescription: "give either client_secret or a certificate, not both")
            default:
                throw DecodingError.dataCorruptedError(
                    forKey: certificate == nil ? .certificate : .privateKey, in: c,
                    debugDescription: "certificate sign-in needs both certificate_file and private_key_file")
            }
        }

        func credential(tokenURL: String) -> ClientCredential {
            if let signer {
                let clientId = self.clientId
                return .assertion { try signer.assertion(clientId: clientId, tokenURL: tokenURL) }
            }
            return .secret(clientSecret!)
        }
    }

    public struct HTTPSettings: Decodable, Sendable {
        public var connectTimeout: ConfigDuration = .seconds(10)
        public var timeout: ConfigDuration = .seconds(60)
        public var proxy: String?
        public var noProxy: String?
        public var caFile: String?
        public var verifyTLS = true
        public var maxBodySize: ByteSize = .mebibytes(64)
        /// Graph requests in flight at once over all tenants; nil: one per tenant and endpoint, at most 256.
        public var maxConnections: Int?

        enum CodingKeys: String, CodingKey {
            case connectTimeout = "connect_timeout"
            case timeout, proxy
            case noProxy = "no_proxy"
            case caFile = "ca_file"
            case verifyTLS = "verify_tls"
            case maxBodySize = "max_body_size"
            case maxConnections = "max_connections"
        }

        public init() {}

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            connectTimeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .connectTimeout) ?? connectTimeout
            timeout = try c.decodeIfPresent(ConfigDuration.self, forKey: .timeout) ?? timeout
            proxy = try c.decodeIfPresent(String.self, forKey: .proxy)
            noProxy = try c.decodeIfPresent(String.self, forKey: .noProxy)
            caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
            verifyTLS = try c.decodeIfPresent(Bool.self, forKey: .verifyTLS) ?? true
            maxBodySize = try c.decodeIfPresent(ByteSize.self, forKey: .maxBodySize) ?? maxBodySize
            maxConnections = try c.decodeIfPresent(Int.self, forKey: .maxConnections)
            if let n = maxConnections, !(1...4096).contains(n) {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxConnections, in: c, debugDescription: "must be from 1 to 4096")
            }
        }
    }

    public struct Configuration: Decodable, Sendable {
        // The defaults, declared once: decoding and the `plugins` listing read them from here.
        public var cloud = "global"
        public var loginURL: String?
        public var graphURL: String?
        public var apiVersion = "v1.0"
        public var tenants: [Tenant]
        public var endpoints: [GraphEndpoint] = [.alertsV2, .incidents]
        public var pollInterval: ConfigDuration = .seconds(60)
        public var ingestionLag: ConfigDuration = .seconds(120)
        public var overlap: ConfigDuration = .seconds(300)
        public var lookBack: ConfigDuration = .seconds(7 * 86_400)
        /// `$top` per endpoint; an endpoint not named uses its maximum (incidents: 50).
        public var pageSize: [String: Int] = [:]
        public var filter: String?
        /// Graph's documented limit for security alerts, per app and tenant.
        public var requestsPerMinute = 150
        public var maxAttempts = 8
        public var retry = RetryPolicy(initialDelay: .seconds(1), maxDelay: .seconds(60))
        public var providerGiveUpAfter: ConfigDuration = .seconds(86_400)
        public var stopWhenCaughtUp = false
        public var http = HTTPSettings()
        /// Compare each closed window's `$count` with the alerts seen (alerts_v2, incidents).
        public var audit = false
        /// Incidents with their alerts (`$expand=alerts`), their evidence merged.
        public var expandAlerts = false
        public var userAgent = "graph-collector/\(CollectorVersion.current)"
        /// How long an endpoint that cannot be collected (retired, not found, a persistent 400)
        /// waits before it is tried again.
        public var unavailableRetryInterval: ConfigDuration = .seconds(3600)
        /// A new window longer than this (a backfill) is collected in time slices side by side; 0: never.
        public var sliceBackfillAfter: ConfigDuration = .seconds(3600)
        /// Slices of a backfill collected at once, under the tenant's one rate limiter.
        public var parallelSlices = 4
        /// Pages fetched and not yet handed to the pipeline, over all tenants and endpoints.
        public var pagesInMemory = 128

        /// Every setting at its default (the tenants have none).
        static let defaults = Configuration(tenants: [])

        init(tenants: [Tenant]) { self.tenants = tenants }

        enum CodingKeys: String, CodingKey {
            case cloud
            case loginURL = "login_url"
            case graphURL = "graph_url"
            case apiVersion = "api_version"
            case tenants, endpoints
            case pollInterval = "poll_interval"
            case ingestionLag = "ingestion_lag"
            case overlap
            case lookBack = "look_back"
            case pageSize = "page_size"
            case filter
            case requestsPerMinute = "requests_per_minute"
            case maxAttempts = "max_attempts"
            case retry
            case providerGiveUpAfter = "provider_give_up_after"
            case stopWhenCaughtUp = "stop_when_caught_up"
            case http
            case audit
            case expandAlerts = "expand_alerts"
            case userAgent = "user_agent"
            case unavailableRetryInterval = "unavailable_retry_interval"
            case sliceBackfillAfter = "slice_backfill_after"
            case parallelSlices = "parallel_slices"
            case pagesInMemory = "pages_in_memory"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Self.defaults
            cloud = try c.decodeIfPresent(String.self, forKey: .cloud) ?? d.cloud
            guard GraphCloud.names.contains(cloud) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .cloud, in: c,
                    debugDescription: "expected one of \(GraphCloud.names.joined(separator: ", ")), found '\(cloud)'")
            }
            loginURL = try c.decodeIfPresent(String.self, forKey: .loginURL)
            graphURL = try c.decodeIfPresent(String.self, forKey: .graphURL)
            apiVersion = try c.decodeIfPresent(String.self, forKey: .apiVersion) ?? d.apiVersion
            tenants = try Self.tenants(in: c)
            endpoints = try c.decodeIfPresent([GraphEndpoint].self, forKey: .endpoints) ?? d.endpoints
            pollInterval = try c.decodeIfPresent(ConfigDuration.self, forKey: .pollInterval) ?? d.pollInterval
            ingestionLag = try c.decodeIfPresent(ConfigDuration.self, forKey: .ingestionLag) ?? d.ingestionLag
            overlap = try c.decodeIfPresent(ConfigDuration.self, forKey: .overlap) ?? d.overlap
            lookBack = try c.decodeIfPresent(ConfigDuration.self, forKey: .lookBack) ?? d.lookBack
            pageSize = try c.decodeIfPresent([String: Int].self, forKey: .pageSize) ?? d.pageSize
            for (name, size) in pageSize {
                guard let endpoint = GraphEndpoint(rawValue: name) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .pageSize, in: c,
                        debugDescription: "unknown endpoint '\(name)' (alerts, alerts_v2, incidents)")
                }
                guard (1...endpoint.maximumPageSize).contains(size) else {
                    throw DecodingError.dataCorruptedError(
                        forKey: .pageSize, in: c,
                        debugDescription: "\(name): $top must be 1...\(endpoint.maximumPageSize)")
                }
            }
            filter = try c.decodeIfPresent(String.self, forKey: .filter)
            requestsPerMinute = try c.decodeIfPresent(Int.self, forKey: .requestsPerMinute) ?? d.requestsPerMinute
            maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
            retry =
                try c.decodeIfPresent(RetryPolicy.self, forKey: .retry) ?? d.retry
            providerGiveUpAfter =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .providerGiveUpAfter) ?? d.providerGiveUpAfter
            stopWhenCaughtUp = try c.decodeIfPresent(Bool.self, forKey: .stopWhenCaughtUp) ?? d.stopWhenCaughtUp
            http = try c.decodeIfPresent(HTTPSettings.self, forKey: .http) ?? d.http
            audit = try c.decodeIfPresent(Bool.self, forKey: .audit) ?? d.audit
            expandAlerts = try c.decodeIfPresent(Bool.self, forKey: .expandAlerts) ?? d.expandAlerts
            userAgent =
                try c.decodeIfPresent(String.self, forKey: .userAgent) ?? d.userAgent
            guard !userAgent.isEmpty, userAgent.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .userAgent, in: c, debugDescription: "must be printable ASCII text")
            }
            unavailableRetryInterval =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .unavailableRetryInterval)
                ?? d.unavailableRetryInterval
            sliceBackfillAfter =
                try c.decodeIfPresent(ConfigDuration.self, forKey: .sliceBackfillAfter) ?? d.sliceBackfillAfter
            parallelSlices = try c.decodeIfPresent(Int.self, forKey: .parallelSlices) ?? d.parallelSlices
            guard (1...32).contains(parallelSlices) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .parallelSlices, in: c, debugDescription: "must be from 1 (no slicing) to 32")
            }
            pagesInMemory = try c.decodeIfPresent(Int.self, forKey: .pagesInMemory) ?? d.pagesInMemory
            guard (2...100_000).contains(pagesInMemory) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .pagesInMemory, in: c, debugDescription: "must be from 2 to 100000")
            }
            guard requestsPerMinute >= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .requestsPerMinute, in: c, debugDescription: "must be at least 1")
            }
            guard maxAttempts >= 1 else {
                throw DecodingError.dataCorruptedError(
                    forKey: .maxAttempts, in: c, debugDescription: "must be at least 1")
            }
        }

        /// The tenants, listed and from `tenants_directory` (the configuration decoder reads the
        /// folder as more items of the list): at least one, none twice.
        static func tenants(in c: KeyedDecodingContainer<CodingKeys>) throws -> [Tenant] {
            guard c.contains(.tenants) else {
                throw DecodingError.keyNotFound(
                    CodingKeys.tenants,
                    .init(
                        codingPath: c.codingPath,
                        debugDescription: "list the tenants, or give tenants_directory: a folder with a YAML file each")
                )
            }
            let tenants = try c.decode([Tenant].self, forKey: .tenants)
            guard !tenants.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .tenants, in: c,
                    debugDescription: "name at least one tenant (the list and its folder are empty)")
            }
            var seen: [String: Int] = [:]
            for (index, tenant) in tenants.enumerated() {
                if let earlier = seen.updateValue(index, forKey: tenant.tenantId.lowercased()) {
                    // Located at the second one: in a tenants folder, that names its file.
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: c.codingPath + [CodingKeys.tenants, ListIndex(intValue: index)],
                            debugDescription:
                                "tenant \(tenant.tenantId) is named twice (tenants[\(earlier)] and tenants[\(index)]): each "
                                + "tenant once, or its checkpoints would be shared"))
                }
            }
            return tenants
        }
    }

    public enum Plugin: SourcePlugin {
        public static let type = "graph-security"
        public static let summary =
            "Microsoft Graph Security API: alerts_v2, incidents and legacy alerts, with 206 provider recovery"
        public static var options: [PluginOption] {
            let d = Configuration.defaults
            return [
                PluginOption(
                    "cloud", type: "global | usgov | dod | china | simulator", default: d.cloud,
                    "national cloud; simulator: the built-in simulator of the top-level 'simulator:' section"),
                PluginOption("login_url", type: "URL", default: "the cloud's", "sign-in host override"),
                PluginOption("graph_url", type: "URL", default: "the cloud's", "Graph host override"),
                PluginOption("api_version", type: "string", default: d.apiVersion, "Graph API version path"),
                PluginOption(
                    "tenants", type: "list", default: nil,
                    "tenant_id, client_id, and client_secret (or client_secret_file) or certificate_file + "
                        + "private_key_file (+ private_key_password) per tenant"
                ),
                PluginOption(
                    "tenants_directory", type: "path", default: "none",
                    "a folder of tenants, one YAML file each (*.yaml, *.yml) with the keys of a tenants item; relative "
                        + "*_file paths inside are read from the folder; added to tenants, picked up on reload"),
                PluginOption(
                    "endpoints", type: "list", default: "[" + d.endpoints.map(\.rawValue).joined(separator: ", ") + "]",
                    "alerts_v2, incidents, alerts (legacy v1, federated: answers 206)"),
                PluginOption(
                    "poll_interval", type: "duration", default: "\(d.pollInterval)",
                    "from one poll's start to the next's"),
                PluginOption(
                    "ingestion_lag", type: "duration", default: "\(d.ingestionLag)",
                    "a window ends this long before now: alerts appear in the API late"),
                PluginOption(
                    "overlap", type: "duration", default: "\(d.overlap)",
                    "each window starts this long before the last one ended; duplicates are removed"),
                PluginOption(
                    "look_back", type: "duration", default: "\(d.lookBack)", "how far back the first run starts"),
                PluginOption(
                    "page_size", type: "map", default: "{alerts: 1000, alerts_v2: 1000, incidents: 50}",
                    "$top per endpoint; lowered automatically if the API refuses it"),
                PluginOption(
                    "filter", type: "OData", default: "none", "ANDed to every query, e.g. \"severity eq 'high'\""),
                PluginOption(
                    "requests_per_minute", type: "integer", default: "\(d.requestsPerMinute)",
                    "per tenant (Graph's documented limit for security alerts)"),
                PluginOption(
                    "max_attempts", type: "integer", default: "\(d.maxAttempts)",
                    "tries of one page before the poll fails (429, 5xx, network, bad bodies)"),
                PluginOption(
                    "retry", type: "mapping",
                    default:
                        "{initial_delay: \(d.retry.initialDelay), max_delay: \(d.retry.maxDelay), multiplier: \(Int(d.retry.multiplier))}",
                    "backoff with full jitter when no Retry-After is given"),
                PluginOption(
                    "provider_give_up_after", type: "duration", default: "\(d.providerGiveUpAfter)",
                    "stop re-querying a provider that keeps answering 401/403 after this long (reported loudly)"),
                PluginOption(
                    "stop_when_caught_up", type: "boolean", default: "\(d.stopWhenCaughtUp)",
                    "finish once every endpoint reached now minus the lag and no provider window is owed"),
                PluginOption(
                    "audit", type: "boolean", default: "\(d.audit)",
                    "ask Graph for $count of each closed window (alerts_v2, incidents) and collect it again if alerts "
                        + "are missing"
                ),
                PluginOption(
                    "expand_alerts", type: "boolean", default: "\(d.expandAlerts)",
                    "incidents with $expand=alerts: their alerts' evidence and techniques merged into the incident"),
                PluginOption(
                    "user_agent", type: "string", default: "graph-collector/<version>",
                    "User-Agent of every Graph request"),
                PluginOption(
                    "unavailable_retry_interval", type: "duration", default: "\(d.unavailableRetryInterval)",
                    "an endpoint that cannot be collected (retired, not found, a persistent 400) is tried again this "
                        + "often"),
            ] + backfillOptions + [
                PluginOption(
                    "http", type: "mapping",
                    default: "{connect_timeout: 10s, timeout: 60s, verify_tls: true, max_body_size: 64MiB}",
                    "proxy, no_proxy, ca_file as well; max_connections: Graph requests in flight over all tenants "
                        + "(default one per tenant and endpoint, at most 256)")
            ]
        }

        static var backfillOptions: [PluginOption] {
            let d = Configuration.defaults
            return [
                PluginOption(
                    "slice_backfill_after", type: "duration", default: "\(d.sliceBackfillAfter)",
                    "a new window longer than this (a first run's look_back, a long outage) is collected in time "
                        + "slices side by side, the checkpoint moving over them in order; 0s: never"),
                PluginOption(
                    "parallel_slices", type: "integer", default: "\(d.parallelSlices)",
                    "slices of a backfill collected at once, all under the tenant's requests_per_minute; 1: none"),
                PluginOption(
                    "pages_in_memory", type: "integer", default: "\(d.pagesInMemory)",
                    "pages fetched and not yet queued for the sinks, over all tenants and endpoints; when the sinks "
                        + "fall behind, streams past this wait before they fetch (memory: about this × a page)"),
            ]
        }

        public static func makeSource(configuration: Configuration, context: SourceContext) async throws -> any Source {
            try GraphSecurityCollector.check(configuration, in: context)
            let cloud: GraphCloud
            if configuration.cloud == "simulator" {
                guard let url = context.services["graph-simulator"] else {
                    throw SourceStopped(
                        reason:
                            "source '\(context.name)': cloud: simulator needs a top-level 'simulator:' section in "
                            + "the configuration"
                    )
                }
                cloud = GraphCloud(loginURL: url, graphURL: url)
            } else {
                let base = GraphCloud.named(configuration.cloud) ?? .global
                cloud = GraphCloud(
                    loginURL: configuration.loginURL ?? base.loginURL, graphURL: configuration.graphURL ?? base.graphURL
                )
            }
            if configuration.cloud == "china" && configuration.endpoints.contains(.alerts) {
                context.logger.warning(
                    "legacy v1 alerts are not available in the China cloud; the alerts endpoint will fail")
            }
            var http = HTTPClientConfiguration()
            http.connectTimeout = configuration.http.connectTimeout.duration
            http.timeout = configuration.http.timeout.duration
            http.proxy = configuration.http.proxy
            http.noProxy = configuration.http.noProxy
            http.caFile = configuration.http.caFile
            http.verifyTLS = configuration.http.verifyTLS
            http.maxBodySize = Int(configuration.http.maxBodySize.bytes)
            // Every tenant's requests share the one transfer engine; each tenant's own rate limiter
            // paces it, so this only bounds the sockets open at once.
            http.connections =
                configuration.http.maxConnections
                ?? min(256, max(4, configuration.tenants.count * configuration.endpoints.count))
            if !http.verifyTLS { context.logger.warning("TLS verification is off for Graph; use only in a lab") }
            return GraphSecurityCollector(
                configuration: configuration, cloud: cloud, http: HTTPClient(configuration: http), context: context)
        }
    }
}

extension GraphSecurityCollector.Configuration: ConfigurationAdvice {
    /// Microsoft retired the legacy `/security/alerts` API (v1) on 2026-10-15.
    public static let legacyAlertsRetirement = "2026-10-15"

    public var advice: [String] {
        guard endpoints.contains(.alerts) else { return [] }
        return [
            "endpoint 'alerts' (legacy /security/alerts, v1) was retired by Microsoft on "
                + "\(Self.legacyAlertsRetirement) and stops "
                + "returning data: collect alerts_v2 (and incidents) instead; README 'Legacy v1 alerts' maps the "
                + "fields. "
                + "Keep 'alerts' only for a tenant or cloud where it still answers."
        ]
    }
}

/// A position in a list, for errors located at one of its items.
private struct ListIndex: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
