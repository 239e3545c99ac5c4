import CollectorCore
import Foundation
import NatsClient

/// The fleet's buckets on NATS, behind one actor on its own thread (every call of the C client
/// blocks): `<bucket>` holds checkpoints, `<bucket>-leases` the tenants' leases and
/// `<bucket>-instances` the instances' heartbeats, both of those expiring after the lease TTL.
/// Connects on first use and again after the client gave up.
actor FleetStore {
    enum Bucket: Sendable { case checkpoints, leases, instances }

    private let executor: DedicatedThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    let settings: NatsSettings
    let bucket: String
    let ttl: Duration
    let replicas: Int
    private var connection: JetStreamConnection?
    private var buckets: [Bucket: KeyValueBucket] = [:]

    /// False for a reader (`status`): buckets are opened, never created.
    let creates: Bool

    init(
        settings: NatsSettings, bucket: String, ttl: Duration, replicas: Int, name: String = "fleet",
        creates: Bool = true
    ) {
        self.creates = creates
        self.settings = settings
        self.bucket = bucket
        self.ttl = ttl
        self.replicas = replicas
        executor = DedicatedThreadExecutor(name: name)
    }

    func name(of which: Bucket) -> String {
        switch which {
        case .checkpoints: return bucket
        case .leases: return "\(bucket)-leases"
        case .instances: return "\(bucket)-instances"
        }
    }

    /// The bucket, opened (and created when missing) on first use and after the client gave up.
    /// The expiring buckets must expire after `lease_ttl`: every instance's fencing counts on it.
    private func kv(_ which: Bucket) throws(NatsError) -> KeyValueBucket {
        if let connection, connection.isClosed {
            connection.close()
            self.connection = nil
            buckets = [:]
        }
        if let kv = buckets[which] { return kv }
        let connection: JetStreamConnection
        if let open = self.connection {
            connection = open
        } else {
            connection = try JetStreamConnection(
                settings: settings, maxPending: 16, ackTimeout: settings.requestTimeout)
            self.connection = connection
        }
        let expires = which != .checkpoints
        let kv = try KeyValueBucket(
            connection: connection, name: name(of: which), ttl: expires ? ttl : nil, replicas: replicas, create: creates
        )
        if expires, let actual = try kv.ttl(), actual != ttl {
            throw NatsError(
                operation: "opening bucket '\(name(of: which))'",
                status:
                    "it exists with a TTL of \(actual), but lease_ttl is \(ttl): set lease_ttl to \(actual) on every "
                    + "instance, or stop them all and delete the bucket (nats kv del \(name(of: which)))",
                isTransient: false)
        }
        buckets[which] = kv
        return kv
    }

    /// Opens the buckets now: a setting at odds with the fleet's fails the start; NATS not
    /// answering yet does not (the fleet waits for it, collecting nothing meanwhile).
    func prepare(_ which: [Bucket]) throws(NatsError) {
        for bucket in which { _ = try kv(bucket) }
    }

    func get(_ which: Bucket, _ key: String) throws(NatsError) -> KeyValueBucket.Entry? {
        try kv(which).get(key)
    }

    func create(_ which: Bucket, _ key: String, _ value: [UInt8]) throws(NatsError) -> UInt64? {
        try kv(which).create(key, value)
    }

    func update(_ which: Bucket, _ key: String, _ value: [UInt8], revision: UInt64) throws(NatsError) -> UInt64? {
        try kv(which).update(key, value, revision: revision)
    }

    @discardableResult
    func put(_ which: Bucket, _ key: String, _ value: [UInt8]) throws(NatsError) -> UInt64 {
        try kv(which).put(key, value)
    }

    func delete(_ which: Bucket, _ key: String) throws(NatsError) {
        try kv(which).delete(key)
    }

    /// Every key of a bucket with its entry.
    func entries(_ which: Bucket) throws(NatsError) -> [String: KeyValueBucket.Entry] {
        let kv = try kv(which)
        var out: [String: KeyValueBucket.Entry] = [:]
        for key in try kv.keys() {
            if let entry = try kv.get(key) { out[key] = entry }
        }
        return out
    }

    func close() {
        buckets = [:]
        connection?.close()
        connection = nil
        executor.shutdown()
    }
}

/// Fleet key names: NATS keys take letters, digits and `-_=/.`; anything else in a source or
/// tenant name is written `=XX` (its UTF-8 bytes in hex), so distinct names stay distinct.
enum FleetKey {
    static func token(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if (c.isLetter || c.isNumber || c == "-" || c == "_") && byte < 0x80 {
                out.append(c)
            } else {
                out += "=" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out.isEmpty ? "=" : out
    }

    static func lease(source: String, unit: String) -> String { "lease.\(token(source)).\(token(unit))" }
    static func checkpoint(source: String, unit: String, name: String) -> String {
        "checkpoint.\(token(source)).\(token(unit)).\(token(name))"
    }
    static func instance(_ id: String) -> String { "instance.\(token(id))" }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
