/// Which instance of a fleet collects which tenant: balanced rendezvous hashing. Each tenant
/// goes to the live instance that scores highest for it, unless that one already has its share
/// (an equal share, and one more for as many as the division leaves over), so the counts differ
/// by at most one and a joining or leaving
/// instance moves few tenants. Pure and deterministic, so every instance computes the same
/// answer from the same list (the leases, not this, keep two from collecting one tenant).
enum TenantAssignment {
    static func owners(units: [String], instances: [String]) -> [String: String] {
        let instances = Array(Set(instances)).sorted()
        guard !instances.isEmpty else { return [:] }
        let units = Set(units)
        // Every instance takes `floor` tenants, and `remainder` of them one more.
        let floor = units.count / instances.count
        var remainder = units.count % instances.count
        var load: [String: Int] = [:]
        var out: [String: String] = [:]
        // Tenants in an order every instance agrees on, each picking its best instance with room.
        for unit in units.sorted(by: { (score($0, ""), $0) < (score($1, ""), $1) }) {
            let ranked = instances.sorted { (score(unit, $0), $0) > (score(unit, $1), $1) }
            let room = { (instance: String) in load[instance, default: 0] < floor + (remainder > 0 ? 1 : 0) }
            guard let pick = ranked.first(where: room) else { continue }
            out[unit] = pick
            load[pick, default: 0] += 1
            if load[pick] == floor + 1 { remainder -= 1 }
        }
        return out
    }

    /// A 64-bit score of a (tenant, instance) pair: FNV-1a, then a SplitMix64 finalizer so that
    /// near-identical names spread. The same in every process (unlike Swift's seeded Hasher).
    static func score(_ unit: String, _ instance: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in instance.utf8 + [0] + unit.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        h = (h ^ (h >> 30)) &* 0xbf58_476d_1ce4_e5b9
        h = (h ^ (h >> 27)) &* 0x94d0_49bb_1331_11eb
        return h ^ (h >> 31)
    }
}
