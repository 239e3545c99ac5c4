import CollectorCore
import Logging
import Synchronization

extension FleetCoordinator {
    /// Collects the source's tenants this instance owns, each in its own task, until `stop`:
    /// claims the tenants the assignment gives it once their lease is free, renews what it
    /// holds, hands over what the assignment moved elsewhere (the work checkpoints and returns,
    /// then the lease is released), and stops a tenant whose lease it could not renew before
    /// half the TTL is gone. On `stop`, keeps renewing until every tenant has checkpointed, and
    /// releases each as soon as it has.
    func runOwned(
        source: String, units: [String], stop: StopRequest,
        work: @escaping @Sendable (_ unit: String, _ stop: StopRequest) async throws -> Void
    ) async throws {
        let digest = register(source: source, units: units)
        defer { unregister(source: source) }
        let owned = OwnedLeases()
        var failure: (any Error)?
        await withTaskCancellationHandler {
            // Instances started together first see each other's heartbeats, so that they do not
            // all claim every tenant and hand most of them over a moment later.
            try? await stop.sleep(for: tick * 2)
            while !stop.isRequested && failure == nil {
                failure = await tick(
                    source: source, units: units, digest: digest, owned: owned, stop: stop, work: work)
                if failure == nil { try? await stop.sleep(for: tick) }
                if Task.isCancelled { break }
            }
            for lease in owned.all { lease.stop.request() }
            while !owned.all.isEmpty && !Task.isCancelled {
                await reap(owned)
                for lease in owned.all where lease.isDueForRenewal && !lease.isLost { await renew(lease) }
                if !owned.all.isEmpty { try? await Task.sleep(for: .milliseconds(100)) }
            }
        } onCancel: {
            for lease in owned.all { lease.cancelWork() }
        }
        if let failure { throw failure }
    }

    /// One look at the leases; returns a tenant's work failure, which ends the source.
    private func tick(
        source: String, units: [String], digest: String, owned: OwnedLeases, stop: StopRequest,
        work: @escaping @Sendable (String, StopRequest) async throws -> Void
    ) async -> (any Error)? {
        if let failure = await reap(owned) { return failure }
        for lease in owned.all where lease.isDueForRenewal && !lease.isLost { await renew(lease) }
        let live: (ids: [String], disagreeing: Int)
        do {
            live = try await liveInstances(source: source, digest: digest)
        } catch {
            logger.warning("cannot read the fleet's instances", metadata: ["error": "\(error)"])
            return nil
        }
        if live.disagreeing > 0 {
            logger.warning(
                "instances run this source with other tenants; sharing it only with those that agree",
                metadata: ["source": "\(source)", "instances": "\(live.disagreeing)"])
        }
        let desired = TenantAssignment.owners(units: units, instances: live.ids)
        for lease in owned.all where desired[lease.unit] != instanceID && !lease.stop.isRequested {
            logger.info(
                "handing the tenant over",
                metadata: ["source": "\(source)", "tenant": "\(lease.unit)", "to": "\(desired[lease.unit] ?? "?")"])
            lease.stop.request()
        }
        for unit in units where desired[unit] == instanceID && owned[unit] == nil && !stop.isRequested {
            guard let lease = await claim(source: source, unit: unit, parent: stop) else { continue }
            owned.add(lease)
            start(lease, work: work)
        }
        return nil
    }

    /// Releases the leases whose work has returned; returns a work's failure (not a stop).
    @discardableResult
    private func reap(_ owned: OwnedLeases) async -> (any Error)? {
        for lease in owned.all where lease.isDone {
            owned.remove(lease)
            await release(lease)
            if let error = lease.error, !(error is CancellationError), !lease.stop.isRequested { return error }
        }
        return nil
    }

    private func start(_ lease: UnitLease, work: @escaping @Sendable (String, StopRequest) async throws -> Void) {
        hold(lease)
        let task = Task {
            do {
                try await work(lease.unit, lease.stop)
                lease.finished(error: nil)
            } catch {
                lease.finished(error: error)
            }
        }
        lease.started(task)
        // Fencing: past the lease's validity the tenant stops (its Graph client sends nothing
        // more), and its work is cancelled a quarter of the TTL later, still a quarter before
        // the server can expire the lease.
        Task { [logger, ttl] in
            while !lease.isDone {
                let until = lease.validUntil
                if ContinuousClock.now >= until {
                    logger.error(
                        "could not renew the tenant's lease in time; stopping it here",
                        metadata: ["tenant": "\(lease.unit)"])
                    lease.lose()
                    try? await Task.sleep(for: ttl / 4)
                    if !lease.isDone { lease.cancelWork() }
                    return
                }
                try? await Task.sleep(for: min(ContinuousClock.now.duration(to: until), .milliseconds(250)))
            }
        }
    }

    /// Takes the tenant's lease if nobody holds it (never written, expired, or released).
    private func claim(source: String, unit: String, parent: StopRequest) async -> UnitLease? {
        let key = FleetKey.lease(source: source, unit: unit)
        let value = leaseValue(owner: instanceID, source: source, unit: unit)
        let sent = ContinuousClock.now
        do {
            let written: UInt64?
            if let existing = try await store.get(.leases, key) {
                // A value that does not parse counts as held: never take what is not clearly free.
                guard let owner = (try? JSONParser.parse(bytes: existing.value))?["owner"]?.stringValue,
                    owner.isEmpty || owner == instanceID
                else { return nil }
                written = try await store.update(.leases, key, value, revision: existing.revision)
            } else {
                written = try await store.create(.leases, key, value)
            }
            guard let written else { return nil }
            logger.info("collecting the tenant", metadata: ["source": "\(source)", "tenant": "\(unit)"])
            return UnitLease(
                key: key, unit: unit, value: value, revision: written, sent: sent, ttl: ttl, stop: parent.child())
        } catch {
            logger.warning("cannot claim the tenant", metadata: ["tenant": "\(unit)", "error": "\(error)"])
            return nil
        }
    }

    /// Writes the lease again at its revision: a different revision means another instance has
    /// it, and may be collecting already, so the work is cancelled at once.
    private func renew(_ lease: UnitLease) async {
        let sent = ContinuousClock.now
        do {
            if let written = try await store.update(.leases, lease.key, lease.value, revision: lease.revision) {
                lease.renewed(revision: written, sent: sent)
            } else {
                logger.error("the tenant's lease was taken; stopping it here", metadata: ["tenant": "\(lease.unit)"])
                lease.lose(now: true)
            }
        } catch {
            logger.warning(
                "cannot renew the tenant's lease", metadata: ["tenant": "\(lease.unit)", "error": "\(error)"])
        }
    }

    /// Marks the lease free (at its revision: never over another instance's), so the tenant's
    /// next owner need not wait for it to expire.
    private func release(_ lease: UnitLease) async {
        forget(lease)
        guard !lease.isLost else { return }
        _ = try? await store.update(.leases, lease.key, Array(#"{"owner":""}"#.utf8), revision: lease.revision)
    }

    func leaseValue(owner: String, source: String, unit: String) -> [UInt8] {
        let value: JSONValue = [
            "owner": .string(owner), "source": .string(source), "tenant": .string(unit),
            "since": .string(Timestamp.now().iso8601(fractionDigits: 3)),
        ]
        return Array(JSONWriter.string(value).utf8)
    }
}

/// The leases one source's ownership loop holds, by tenant; shared with its cancellation handler.
final class OwnedLeases: Sendable {
    private let leases = Mutex<[String: UnitLease]>([:])

    var all: [UnitLease] { leases.withLock { Array($0.values) } }
    subscript(unit: String) -> UnitLease? { leases.withLock { $0[unit] } }
    func add(_ lease: UnitLease) { leases.withLock { $0[lease.unit] = lease } }
    func remove(_ lease: UnitLease) { _ = leases.withLock { $0.removeValue(forKey: lease.unit) } }
}
