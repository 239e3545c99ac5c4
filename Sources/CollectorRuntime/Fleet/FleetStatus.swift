import CollectorCore
import Foundation

/// `graph-collector status` for a fleet: the instances with a live heartbeat and the tenants'
/// leases (who collects which tenant, since when), read from the fleet's buckets.
enum FleetStatus {
    static func describe(_ settings: FleetSettings, directory: String, now: Timestamp = .now()) async throws -> String {
        let store = FleetStore(
            settings: settings.natsSettings(
                instance: "status", resolve: { $0.hasPrefix("/") ? $0 : "\(directory)/\($0)" }),
            bucket: settings.bucket, ttl: settings.leaseTTL.duration, replicas: settings.replicas, name: "status",
            creates: false)
        let instances: [JSONValue]
        let leases: [(JSONValue, Int64)]
        do {
            instances = try await store.entries(.instances).values.compactMap { try? JSONParser.parse(bytes: $0.value) }
            leases = try await store.entries(.leases).values.compactMap { entry -> (JSONValue, Int64)? in
                guard let value = try? JSONParser.parse(bytes: entry.value) else { return nil }
                return (value, entry.created)
            }
            await store.close()
        } catch {
            await store.close()
            throw error
        }
        var lines = [
            "fleet (bucket \(settings.bucket), lease TTL \(settings.leaseTTL)): \(instances.count) instance(s)"
        ]
        var owners: [String: [(source: String, tenant: String, age: Double)]] = [:]
        for (lease, created) in leases {
            guard let owner = lease["owner"]?.stringValue, !owner.isEmpty else { continue }
            let age = Double(now.nanosecondsSinceEpoch - created) / 1e9
            owners[owner, default: []].append(
                (lease["source"]?.stringValue ?? "?", lease["tenant"]?.stringValue ?? "?", age))
        }
        for instance in instances.sorted(by: { ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "") }) {
            let id = instance["id"]?.stringValue ?? "?"
            let held = owners[id] ?? []
            lines.append(
                "  \(id): host \(instance["host"]?.stringValue ?? "?"), pid \(instance["pid"]?.scalarText ?? "?"), "
                    + "since \(instance["started"]?.stringValue ?? "?"), \(held.count) tenant(s)")
            for lease in held.sorted(by: { ($0.source, $0.tenant) < ($1.source, $1.tenant) }) {
                lines.append(
                    "    \(lease.source)/\(lease.tenant): lease renewed \(String(format: "%.1f", lease.age)) s ago")
            }
        }
        let orphaned = owners.keys.filter { owner in !instances.contains { $0["id"]?.stringValue == owner } }
        for owner in orphaned.sorted() {
            lines.append("  \(owner) (no heartbeat: its \(owners[owner]!.count) lease(s) expire within the TTL)")
        }
        let held = owners.values.reduce(0) { $0 + $1.count }
        lines.append("  \(held) tenant lease(s) held")
        return lines.joined(separator: "\n")
    }
}
