import CollectorCore
import Foundation
import Logging
import NatsClient
import ServiceLifecycle
import Synchronization

/// Collectors sharing their sources' tenants through NATS (`coordination:`). Each instance
/// heartbeats in `<bucket>-instances`; each tenant is collected by the instance holding its key
/// in `<bucket>-leases`, created or renewed only at the revision it read, and expiring when its
/// owner stops renewing it; checkpoints live in `<bucket>`, written only by the lease holder
/// and at the revision it read. An instance stops a tenant well before its lease can expire,
/// so two instances never collect one tenant at once.
final class FleetCoordinator: SourceCoordination, Service {
    /// Leases and heartbeats, on a connection and thread of their own: renewals never wait
    /// behind a checkpoint being written.
    let store: FleetStore
    let checkpoints: FleetStore
    /// This instance in the fleet: its name and a random suffix, new at each start.
    let instanceID: String
    let ttl: Duration
    let logger: Logger
    let startedAt = Timestamp.now()
    /// The leases this instance holds, by key, for the checkpoints' fencing.
    private let held = Mutex<[String: UnitLease]>([:])
    /// Each running source's tenant list, as a digest: instances balance a source's tenants
    /// only among those that have the same list (a configuration rolled out host by host).
    private let sources = Mutex<[String: String]>([:])

    init(settings: FleetSettings, resolve: (String) -> String, logger: Logger) {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        instanceID = "\(settings.instanceName)-\(suffix)"
        ttl = settings.leaseTTL.duration
        var logger = logger
        logger[metadataKey: "instance"] = "\(instanceID)"
        self.logger = logger
        let nats = settings.natsSettings(instance: instanceID, resolve: resolve)
        store = FleetStore(settings: nats, bucket: settings.bucket, ttl: ttl, replicas: settings.replicas)
        checkpoints = FleetStore(
            settings: nats, bucket: settings.bucket, ttl: ttl, replicas: settings.replicas, name: "fleet-checkpoints")
        if ttl < .seconds(10) {
            logger.warning(
                "lease_ttl under 10s: a NATS leader election or a slow write may stop tenants until they are claimed again",
                metadata: ["lease_ttl": "\(ttl)"])
        }
    }

    /// Opens the buckets at start: a bucket at odds with this configuration (another TTL) stops
    /// the start; NATS not reachable yet is only logged.
    func prepare() async throws {
        do {
            try await store.prepare([.leases, .instances])
            try await checkpoints.prepare([.checkpoints])
        } catch let error as NatsError where !error.isTransient {
            throw StartupError(message: "coordination: \(error)")
        } catch {
            logger.warning("NATS not reachable yet; collecting nothing until it is", metadata: ["error": "\(error)"])
        }
    }

    /// How often leases are looked at: claims and hand-overs at once, renewals every third of
    /// the TTL.
    var tick: Duration { min(.seconds(1), ttl / 6) }

    /// Heartbeats until the run stops; then leaves the fleet at once (its tenants' leases were
    /// released by the sources as they stopped).
    func run() async throws {
        logger.info("joined the fleet", metadata: ["bucket": "\(store.bucket)", "lease_ttl": "\(ttl)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await heartbeat()
            try? await Task.sleep(for: tick)
        }
        try? await store.delete(.instances, FleetKey.instance(instanceID))
        await store.close()
        await checkpoints.close()
    }

    func heartbeat() async {
        let owned = held.withLock { $0.count }
        let value: JSONValue = [
            "id": .string(instanceID), "host": .string(ProcessInfo.processInfo.hostName),
            "pid": .number(String(getpid())), "started": .string(startedAt.iso8601(fractionDigits: 3)),
            "tenants": .number(String(owned)),
            "sources": .object(sources.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
        ]
        do {
            try await store.put(.instances, FleetKey.instance(instanceID), Array(JSONWriter.string(value).utf8))
        } catch {
            logger.warning("fleet heartbeat failed", metadata: ["error": "\(error)"])
        }
    }

    /// Registers a source's tenant list (for the heartbeat); returns its digest.
    func register(source: String, units: [String]) -> String {
        let digest = String(TenantAssignment.score(units.sorted().joined(separator: "\n"), source), radix: 16)
        sources.withLock { $0[source] = digest }
        return digest
    }

    func unregister(source: String) { _ = sources.withLock { $0.removeValue(forKey: source) } }

    /// The instances whose heartbeat has not expired and that run `source` with the same
    /// tenants (digest), this one included; and how many run it with other tenants.
    func liveInstances(source: String, digest: String) async throws -> (ids: [String], disagreeing: Int) {
        var ids: Set<String> = [instanceID]
        var disagreeing = 0
        for entry in try await store.entries(.instances).values {
            guard let heartbeat = try? JSONParser.parse(bytes: entry.value), let id = heartbeat["id"]?.stringValue
            else { continue }
            switch heartbeat["sources"]?[source]?.stringValue {
            case digest: ids.insert(id)
            case nil: break
            default: if id != instanceID { disagreeing += 1 }
            }
        }
        return (ids.sorted(), disagreeing)
    }

    func lease(for key: String) -> UnitLease? { held.withLock { $0[key] } }

    func hold(_ lease: UnitLease) { held.withLock { $0[lease.key] = lease } }

    func forget(_ lease: UnitLease) {
        held.withLock { held in
            if held[lease.key] === lease { held[lease.key] = nil }
        }
    }

    func checkpoint(source: String, unit: String, name: String, local: any CheckpointStorage) -> any CheckpointStorage {
        FleetCheckpoint(
            coordinator: self, key: FleetKey.checkpoint(source: source, unit: unit, name: name),
            leaseKey: FleetKey.lease(source: source, unit: unit), local: local)
    }
}

/// A checkpoint in the fleet's bucket: read at the start of a tenant's collection, written only
/// while this instance's lease on the tenant is valid and only over the revision it read or
/// wrote last. A write that finds another revision means another instance collects the tenant
/// now: the tenant stops here.
final class FleetCheckpoint: CheckpointStorage {
    let coordinator: FleetCoordinator
    let key: String
    let leaseKey: String
    /// The checkpoint file of a collector that ran without `coordination:`.
    let local: any CheckpointStorage
    private let revision = Mutex<UInt64?>(nil)

    init(coordinator: FleetCoordinator, key: String, leaseKey: String, local: any CheckpointStorage) {
        self.coordinator = coordinator
        self.key = key
        self.leaseKey = leaseKey
        self.local = local
    }

    /// No checkpoint in the fleet yet: the local one, if this collector ran without a fleet.
    private func importLocal() async throws -> JSONValue? {
        guard let value = try await local.load() else { return nil }
        coordinator.logger.notice(
            "resuming from the local checkpoint; the fleet keeps it from now on",
            metadata: ["checkpoint": "\(local.location)", "key": "\(key)"])
        return value
    }

    var location: String { "\(coordinator.store.bucket)/\(key)" }

    func load() async throws -> JSONValue? {
        guard let entry = try await coordinator.checkpoints.get(.checkpoints, key) else {
            return try await importLocal()
        }
        revision.withLock { $0 = entry.revision }
        do {
            return try JSONParser.parse(bytes: entry.value)
        } catch {
            throw SourceCheckpointError(description: "checkpoint '\(location)' is damaged (\(error))")
        }
    }

    func save(_ value: JSONValue) async throws {
        guard let lease = coordinator.lease(for: leaseKey), lease.isValid else {
            throw SourceCheckpointError(
                description: "checkpoint '\(location)' not saved: this instance no longer holds the tenant's lease")
        }
        let bytes = Array(JSONWriter.string(value).utf8)
        let store = coordinator.checkpoints
        let written: UInt64?
        if let last = revision.withLock({ $0 }) {
            written = try await store.update(.checkpoints, key, bytes, revision: last)
        } else {
            written = try await store.create(.checkpoints, key, bytes)
        }
        guard let written else {
            lease.lose(now: true)
            throw SourceCheckpointError(
                description: "checkpoint '\(location)' was written by another instance: the tenant stops here")
        }
        revision.withLock { $0 = written }
    }
}

struct SourceCheckpointError: Error, CustomStringConvertible {
    var description: String
}
