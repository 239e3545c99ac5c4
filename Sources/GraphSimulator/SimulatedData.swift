import CollectorCore
import GraphSecuritySource

/// One alert (or incident) version the simulator can serve.
struct SimulatedRecord: Sendable {
    let index: Int
    let created: Timestamp
    let lastUpdate: Timestamp
    let revision: Int
    let provider: String
}

/// The simulator's data: what exists at a given moment, per endpoint, sorted by last update.
struct SimulatedData: Sendable {
    let configuration: SimulatorConfiguration
    let startedAt: Timestamp
    let baseline: [GraphEndpoint: [SimulatedRecord]]
    let generator: AlertGenerator
    /// Records updated while the simulator runs (a fault schedule's `updateAlert`), by index.
    var updates: [GraphEndpoint: [Int: SimulatedRecord]] = [:]

    init(configuration: SimulatorConfiguration, startedAt: Timestamp) {
        self.configuration = configuration
        self.startedAt = startedAt
        generator = AlertGenerator(seed: configuration.seed, tenantId: configuration.tenantId, start: startedAt)
        var baseline: [GraphEndpoint: [SimulatedRecord]] = [:]
        for endpoint in GraphEndpoint.allCases {
            let count = Self.count(endpoint, configuration)
            let span = configuration.history.seconds
            let historyStart = startedAt.adding(seconds: -span)
            var records: [SimulatedRecord] = []
            records.reserveCapacity(count)
            for i in 0..<count {
                let created = historyStart.adding(seconds: span * Double(i) / Double(max(count, 1)))
                // Every fifth alert was updated an hour later (if that is already in the past).
                let updatedLater = i % 5 == 0 && created.adding(seconds: 3600) < startedAt
                let lastUpdate = updatedLater ? created.adding(seconds: 3600) : created
                let provider =
                    configuration.providers.isEmpty
                    ? "Microsoft Defender ATP" : configuration.providers[i % configuration.providers.count]
                records.append(
                    SimulatedRecord(
                        index: i, created: created, lastUpdate: lastUpdate, revision: updatedLater ? 1 : 0,
                        provider: provider))
            }
            baseline[endpoint] = records.sorted(by: Self.order)
        }
        self.baseline = baseline
    }

    static func count(_ endpoint: GraphEndpoint, _ c: SimulatorConfiguration) -> Int {
        switch endpoint {
        case .alerts: return c.alertsV1
        case .alertsV2: return c.alertsV2
        case .incidents: return c.incidents
        }
    }

    static func order(_ a: SimulatedRecord, _ b: SimulatedRecord) -> Bool {
        a.lastUpdate == b.lastUpdate ? a.index < b.index : a.lastUpdate < b.lastUpdate
    }

    /// The record versions visible at `now` (ingestion delay applied), sorted by last update.
    func visible(_ endpoint: GraphEndpoint, now: Timestamp) -> [SimulatedRecord] {
        let delay = configuration.ingestionDelay.seconds
        var result = baseline[endpoint] ?? []
        if configuration.arrivalRate > 0 {
            let base = Self.count(endpoint, configuration)
            let elapsed = Double(now.nanosecondsSinceEpoch - startedAt.nanosecondsSinceEpoch) / 1e9
            let arrived = Int(max(0, elapsed) * configuration.arrivalRate)
            for k in 0..<arrived {
                let created = startedAt.adding(seconds: Double(k + 1) / configuration.arrivalRate)
                let update = created.adding(seconds: configuration.updateAfter.seconds)
                let revision = update <= now ? 1 : 0
                let provider =
                    configuration.providers.isEmpty
                    ? "Microsoft Defender ATP" : configuration.providers[(base + k) % configuration.providers.count]
                result.append(
                    SimulatedRecord(
                        index: base + k, created: created, lastUpdate: revision == 1 ? update : created,
                        revision: revision, provider: provider))
            }
            result.sort(by: Self.order)
        }
        if let changed = updates[endpoint], !changed.isEmpty {
            result = result.map { changed[$0.index] ?? $0 }
            result.sort(by: Self.order)
        }
        if delay > 0 {
            let cutoff = now.adding(seconds: -delay)
            result = result.filter { $0.lastUpdate <= cutoff }
        }
        return result
    }

    /// Gives a visible record a new version dated `time` (a status change), as an analyst would;
    /// never earlier than its current version.
    mutating func update(_ endpoint: GraphEndpoint, visibleIndex: Int, now: Timestamp, dated time: Timestamp) {
        let records = visible(endpoint, now: now)
        guard records.indices.contains(visibleIndex) else { return }
        var record = records[visibleIndex]
        record = SimulatedRecord(
            index: record.index, created: record.created,
            lastUpdate: max(time, record.lastUpdate.adding(seconds: 0.000001)),
            revision: record.revision + 1, provider: record.provider)
        updates[endpoint, default: [:]][record.index] = record
    }

    /// The JSON Graph would return for a record.
    func json(_ record: SimulatedRecord, endpoint: GraphEndpoint) -> JSONValue {
        let v2 = generator.alert(
            record.index, created: record.created, updated: record.lastUpdate, revision: record.revision)
        switch endpoint {
        case .alertsV2: return v2
        case .alerts: return Self.v1(from: v2, provider: record.provider, tenant: configuration.tenantId)
        case .incidents: return Self.incident(from: v2, index: record.index, tenant: configuration.tenantId)
        }
    }

    static func v1(from v2: JSONValue, provider: String, tenant: String) -> JSONValue {
        let evidence = v2["evidence"]?.arrayValue ?? []
        let device = evidence.first { $0["@odata.type"]?.stringValue == "#microsoft.graph.security.deviceEvidence" }
        let process = evidence.first { $0["@odata.type"]?.stringValue == "#microsoft.graph.security.processEvidence" }
        let file = evidence.first { $0["@odata.type"]?.stringValue == "#microsoft.graph.security.fileEvidence" }
        let status: JSONValue = v2["status"]?.stringValue == "new" ? "newAlert" : (v2["status"] ?? "unknown")
        return [
            "@odata.type": "#microsoft.graph.alert",
            "id": v2["id"] ?? .null,
            "azureTenantId": .string(tenant),
            "azureSubscriptionId": nil,
            "category": v2["category"] ?? .null,
            "closedDateTime": v2["resolvedDateTime"] ?? .null,
            "createdDateTime": v2["createdDateTime"] ?? .null,
            "description": v2["description"] ?? .null,
            "eventDateTime": v2["firstActivityDateTime"] ?? .null,
            "lastModifiedDateTime": v2["lastUpdateDateTime"] ?? .null,
            "feedback": nil,
            "incidentIds": .array([v2["incidentId"] ?? .null]),
            "severity": v2["severity"] ?? .null,
            "status": status,
            "title": v2["title"] ?? .null,
            "sourceMaterials": .array([v2["alertWebUrl"] ?? .null]),
            "vendorInformation": [
                "provider": .string(provider), "providerVersion": nil, "subProvider": nil, "vendor": "Microsoft",
            ],
            "hostStates": [
                [
                    "fqdn": device?["deviceDnsName"] ?? .null, "netBiosName": nil, "os": device?["osPlatform"] ?? .null,
                    "privateIpAddress": device?["ipInterfaces"]?.arrayValue?.first ?? .null, "publicIpAddress": nil,
                ]
            ],
            "userStates": [
                [
                    "accountName": process?["userAccount"]?["accountName"] ?? .null, "domainName": "CONTOSO",
                    "userPrincipalName": process?["userAccount"]?["userPrincipalName"] ?? .null,
                ]
            ],
            "fileStates": [
                [
                    "name": file?["fileDetails"]?["fileName"] ?? .null,
                    "path": file?["fileDetails"]?["filePath"] ?? .null,
                    "fileHash": ["hashType": "sha256", "hashValue": file?["fileDetails"]?["sha256"] ?? .null],
                ]
            ],
            "processes": [
                [
                    "processId": process?["processId"] ?? .null, "commandLine": process?["processCommandLine"] ?? .null,
                    "name": "powershell.exe", "accountName": process?["userAccount"]?["accountName"] ?? .null,
                ]
            ],
            "networkConnections": [],
        ]
    }

    static func incident(from v2: JSONValue, index: Int, tenant: String) -> JSONValue {
        let id = String(100_000 + index)
        return [
            "@odata.type": "#microsoft.graph.security.incident",
            "id": .string(id),
            "incidentWebUrl": .string("https://security.microsoft.com/incidents/\(id)?tid=\(tenant)"),
            "redirectIncidentId": nil,
            "tenantId": .string(tenant),
            "displayName": .string("Incident involving " + (v2["title"]?.stringValue ?? "an alert")),
            "createdDateTime": v2["createdDateTime"] ?? .null,
            "lastUpdateDateTime": v2["lastUpdateDateTime"] ?? .null,
            "assignedTo": v2["assignedTo"] ?? .null,
            "classification": v2["classification"] ?? .null,
            "determination": v2["determination"] ?? .null,
            "status": v2["status"]?.stringValue == "resolved" ? "resolved" : "active",
            "severity": v2["severity"] ?? .null,
            "tags": [],
            "comments": [],
            "systemTags": [],
            "description": v2["description"] ?? .null,
        ]
    }
}
