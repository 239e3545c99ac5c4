public import CollectorCore
public import CollectorSinks
import Foundation
import NatsClient

/// `coordination:` collectors that share their sources' tenants through NATS JetStream
/// key-value buckets: leases say who collects which tenant, checkpoints live beside them.
public struct FleetSettings: Sendable, Decodable {
    public var servers: [String]
    /// The buckets' prefix: `<bucket>` (checkpoints), `<bucket>-leases`, `<bucket>-instances`.
    public var bucket = "graph-collector"
    /// A tenant whose owner stops renewing its lease goes to another instance this long after.
    public var leaseTTL = ConfigDuration.seconds(15)
    public var replicas = 1
    /// This instance's name in the fleet (a random suffix is added for each start).
    public var instanceName: String
    public var auth: NatsJetStreamSink.Auth?
    public var tls: NatsJetStreamSink.TLS?
    var useTLS = false

    enum CodingKeys: String, CodingKey {
        case type, servers, bucket, replicas, auth, tls
        case leaseTTL = "lease_ttl"
        case instanceName = "instance_name"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        guard type == "nats" else {
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c, debugDescription: "unknown coordination type '\(type)' (known: nats)")
        }
        servers = try c.decode([String].self, forKey: .servers)
        guard !servers.isEmpty,
            servers.allSatisfy({ ($0.hasPrefix("nats://") || $0.hasPrefix("tls://")) && !$0.contains("@") })
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .servers, in: c,
                debugDescription: "servers: nats://host:4222 or tls://host:4222 URLs, credentials in auth:")
        }
        bucket = try c.decodeIfPresent(String.self, forKey: .bucket) ?? bucket
        guard !bucket.isEmpty, bucket.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .bucket, in: c, debugDescription: "a bucket name takes letters, digits, - and _")
        }
        leaseTTL = try c.decodeIfPresent(ConfigDuration.self, forKey: .leaseTTL) ?? leaseTTL
        guard leaseTTL.seconds >= 2 else {
            throw DecodingError.dataCorruptedError(
                forKey: .leaseTTL, in: c, debugDescription: "lease_ttl must be at least 2s")
        }
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? replicas
        guard (1...5).contains(replicas) else {
            throw DecodingError.dataCorruptedError(
                forKey: .replicas, in: c, debugDescription: "replicas must be 1 to 5")
        }
        instanceName =
            try c.decodeIfPresent(String.self, forKey: .instanceName) ?? ProcessInfo.processInfo.hostName
        auth = try c.decodeIfPresent(NatsJetStreamSink.Auth.self, forKey: .auth)
        tls = try c.decodeIfPresent(NatsJetStreamSink.TLS.self, forKey: .tls)
        useTLS = tls != nil || servers.contains { $0.hasPrefix("tls://") }
    }

    /// The client's settings; relative paths resolved against the configuration's directory.
    func natsSettings(instance: String, resolve: (String) -> String) -> NatsSettings {
        var s = NatsSettings(servers: servers, name: "graph-collector fleet \(instance)")
        s.credentials = auth?.credentials(resolve: resolve) ?? .none
        // Every KV call returns well within a lease's margin.
        s.requestTimeout = leaseTTL.duration / 5
        s.connectTimeout = min(.seconds(5), leaseTTL.duration / 3)
        if useTLS { s.tls = (tls ?? NatsJetStreamSink.TLS()).settings(resolve: resolve) }
        return s
    }
}
