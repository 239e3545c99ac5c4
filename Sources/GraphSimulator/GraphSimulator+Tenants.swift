public import CollectorCore

extension SimulatorConfiguration {
    /// The tenants the simulator serves: `tenant_id` first, then `tenants - 1` more whose ids
    /// follow from it (`…-000000000001`, `…-000000000002`, …), each with its own data, tokens and
    /// rate limit. All share the app registration (`client_id`, secret or certificate), as an
    /// MSSP's multi-tenant app does.
    public var tenantIds: [String] { (0..<max(1, tenants)).map(tenantId(at:)) }

    /// The id of tenant number `index` (0 is `tenant_id`).
    public func tenantId(at index: Int) -> String {
        guard index > 0 else { return tenantId }
        let hex = String(index, radix: 16)
        let prefix = tenantId.count > 12 ? String(tenantId.dropLast(12)) : "00000000-0000-4000-8000-"
        return prefix + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
    }

    /// A `tenants_directory` for these tenants: `app.secret` and one YAML file per tenant that
    /// reads it, as (file name, text).
    public var tenantFiles: [(name: String, text: String)] {
        [("app.secret", clientSecret)]
            + tenantIds.map { id in
                ("\(id).yaml", "tenant_id: \(id)\nclient_id: \(clientId)\nclient_secret_file: app.secret\n")
            }
    }

    /// Which tenant `id` is, if the simulator serves it.
    func tenantIndex(of id: String) -> Int? {
        if id == tenantId { return 0 }
        guard tenants > 1, let index = Int(id.suffix(12), radix: 16), (1..<tenants).contains(index),
            tenantId(at: index) == id
        else { return nil }
        return index
    }

    /// The configuration tenant number `index` is generated from: its own id and seed.
    func forTenant(_ index: Int) -> SimulatorConfiguration {
        guard index > 0 else { return self }
        var copy = self
        copy.tenantId = tenantId(at: index)
        copy.seed = seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        return copy
    }
}

extension GraphSimulator {
    /// The records a `lastUpdateDateTime`/`lastModifiedDateTime` range can match, found by binary
    /// search (records are sorted by last update), so a thousand tenants' polls of their newest
    /// minutes do not each walk a whole history. The full filter still runs on what is left.
    static func narrowed(_ records: [SimulatedRecord], by query: ODataQuery) -> [SimulatedRecord] {
        var lower = records.startIndex
        var upper = records.endIndex
        for condition in query.conditions where condition.isTime {
            guard condition.property != "createdDateTime", condition.property != "eventDateTime",
                let value = Timestamp(iso8601: condition.value)
            else { continue }
            switch condition.op {
            case "ge": lower = max(lower, firstIndex(in: records) { $0.lastUpdate >= value })
            case "gt": lower = max(lower, firstIndex(in: records) { $0.lastUpdate > value })
            case "le": upper = min(upper, firstIndex(in: records) { $0.lastUpdate > value })
            case "lt": upper = min(upper, firstIndex(in: records) { $0.lastUpdate >= value })
            default: continue
            }
        }
        guard lower < upper else { return [] }
        return lower == records.startIndex && upper == records.endIndex ? records : Array(records[lower..<upper])
    }

    /// The first index where `isAtOrPast` holds, for a predicate that is false then true over `records`.
    private static func firstIndex(
        in records: [SimulatedRecord], where isAtOrPast: (SimulatedRecord) -> Bool
    ) -> Int {
        var low = 0
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if isAtOrPast(records[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// One API request the simulator answered (with `recordRequests`): whose, from which client.
public struct RequestRecord: Sendable, Hashable {
    public var tenant: String
    /// The User-Agent header: which collector asked.
    public var agent: String?
    public var at: Timestamp
}
