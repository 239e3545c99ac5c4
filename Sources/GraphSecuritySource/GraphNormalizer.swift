public import CollectorCore

/// Turns one item of a Graph Security API answer into a ``SecurityAlert``, keeping the item
/// itself as the alert's `raw`.
public enum GraphNormalizer {
    /// A Graph item that cannot be an alert (no id, not an object).
    public struct ItemError: Error, Sendable, CustomStringConvertible {
        public var index: Int?
        public var problem: String
        public var description: String {
            (index.map { "item \($0) of the page: " } ?? "") + problem
        }
    }

    /// Normalizes one item. The shape is taken from its `@odata.type` when present, else from
    /// the endpoint it came from.
    /// `raw` is the item's text when the caller has it already (else it is written from `item`).
    public static func normalize(
        _ item: JSONValue, raw: RawJSON? = nil, endpoint: GraphEndpoint
    ) throws(ItemError) -> SecurityAlert {
        guard case .object = item else { throw ItemError(problem: "expected a JSON object, found \(kindName(item))") }
        guard let id = item["id"]?.scalarText, !id.isEmpty else {
            throw ItemError(problem: "the item has no 'id'")
        }
        let kind = kind(of: item, endpoint: endpoint)
        switch kind {
        case .alertV1: return normalizeV1(item, id: id, raw: raw ?? RawJSON(item))
        case .alertV2: return normalizeV2(item, id: id, raw: raw ?? RawJSON(item))
        case .incident: return normalizeIncident(item, id: id, raw: raw ?? RawJSON(item))
        }
    }

    /// Normalizes one item kept as text.
    public static func normalize(_ item: RawJSON, endpoint: GraphEndpoint) throws(ItemError) -> SecurityAlert {
        try normalize(item.value, raw: item, endpoint: endpoint)
    }

    /// The time fields of an item whose text is not a time the collector can represent (RFC 3339
    /// between 1678 and 2262; Microsoft's "unset" `0001-01-01T00:00:00Z` is outside). The alert
    /// is still delivered with these fields left out; its `raw` keeps the original text.
    public static func unreadableTimes(in item: JSONValue, endpoint: GraphEndpoint) -> [(field: String, text: String)] {
        let fields: [String]
        switch kind(of: item, endpoint: endpoint) {
        case .alertV1:
            fields = [
                "createdDateTime", "eventDateTime", "lastEventDateTime", "lastModifiedDateTime", "closedDateTime",
            ]
        case .alertV2:
            fields = [
                "createdDateTime", "firstActivityDateTime", "lastActivityDateTime", "lastUpdateDateTime",
                "resolvedDateTime",
            ]
        case .incident:
            fields = ["createdDateTime", "lastUpdateDateTime", "resolvedDateTime"]
        }
        return fields.compactMap { field in
            guard let text = item[field]?.stringValue, Timestamp(iso8601: text) == nil else { return nil }
            return (field, String(text.prefix(64)))
        }
    }

    static func kind(of item: JSONValue, endpoint: GraphEndpoint) -> SecurityAlert.Kind {
        switch item["@odata.type"]?.stringValue {
        case "#microsoft.graph.security.alert": return .alertV2
        case "#microsoft.graph.security.incident": return .incident
        case "#microsoft.graph.alert": return .alertV1
        default: return endpoint.alertKind
        }
    }

    static func kindName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    static func string(_ v: JSONValue?) -> String? {
        guard let text = v?.scalarText, !text.isEmpty else { return nil }
        return text
    }

    static func time(_ v: JSONValue?) -> Timestamp? {
        v?.stringValue.flatMap(Timestamp.init(iso8601:))
    }

    static func strings(_ v: JSONValue?) -> [String] {
        (v?.arrayValue ?? []).compactMap { string($0) }
    }

    static func normalizeV2(_ item: JSONValue, id: String, raw: RawJSON) -> SecurityAlert {
        SecurityAlert(
            kind: .alertV2, id: id, providerAlertId: string(item["providerAlertId"]),
            incidentId: string(item["incidentId"]), title: string(item["title"]) ?? "(untitled alert)",
            description: string(item["description"]),
            severity: Severity(rawValue: string(item["severity"]) ?? "unknown"),
            status: string(item["status"]) ?? "unknown", classification: string(item["classification"]),
            determination: string(item["determination"]), category: string(item["category"]),
            vendor: string(item["vendorName"]) ?? "Microsoft",
            provider: string(item["productName"]) ?? string(item["serviceSource"]),
            detectionSource: string(item["detectionSource"]), serviceSource: string(item["serviceSource"]),
            createdAt: time(item["createdDateTime"]), firstActivityAt: time(item["firstActivityDateTime"]),
            lastActivityAt: time(item["lastActivityDateTime"]), lastUpdatedAt: time(item["lastUpdateDateTime"]),
            resolvedAt: time(item["resolvedDateTime"]), assignedTo: string(item["assignedTo"]),
            tenantId: string(item["tenantId"]), webURL: string(item["alertWebUrl"]),
            mitreTechniques: strings(item["mitreTechniques"]), evidence: evidenceV2(item["evidence"]), raw: raw)
    }

    static func normalizeIncident(_ item: JSONValue, id: String, raw: RawJSON) -> SecurityAlert {
        var evidence = Evidence()
        var techniques: [String] = []
        // With $expand=alerts an incident carries its alerts; gather their evidence.
        for alert in item["alerts"]?.arrayValue ?? [] {
            let e = evidenceV2(alert["evidence"])
            evidence.hosts += e.hosts
            evidence.users += e.users
            evidence.ipAddresses += e.ipAddresses
            evidence.urls += e.urls
            evidence.files += e.files
            evidence.processes += e.processes
            techniques += strings(alert["mitreTechniques"])
        }
        var seen = Set<String>()
        techniques = techniques.filter { seen.insert($0).inserted }
        // A merged incident (status `redirected`) names the incident it now belongs to.
        let target = string(item["redirectIncidentId"]) ?? id
        return SecurityAlert(
            kind: .incident, id: id, incidentId: target, title: string(item["displayName"]) ?? "(untitled incident)",
            description: string(item["description"]),
            severity: Severity(rawValue: string(item["severity"]) ?? "unknown"),
            status: string(item["status"]) ?? "unknown", classification: string(item["classification"]),
            determination: string(item["determination"]), vendor: "Microsoft", provider: "Microsoft 365 Defender",
            createdAt: time(item["createdDateTime"]), lastUpdatedAt: time(item["lastUpdateDateTime"]),
            resolvedAt: time(item["resolvedDateTime"]), assignedTo: string(item["assignedTo"]),
            tenantId: string(item["tenantId"]), webURL: string(item["incidentWebUrl"]), mitreTechniques: techniques,
            evidence: evidence, raw: raw)
    }

    static func normalizeV1(_ item: JSONValue, id: String, raw: RawJSON) -> SecurityAlert {
        let vendorInfo = item["vendorInformation"]
        var evidence = Evidence()
        for h in item["hostStates"]?.arrayValue ?? [] {
            let ips = [string(h["privateIpAddress"]), string(h["publicIpAddress"])].compactMap { $0 }
            evidence.hosts.append(
                Evidence.Host(
                    name: string(h["netBiosName"]), fqdn: string(h["fqdn"]), os: string(h["os"]), ipAddresses: ips))
        }
        for u in item["userStates"]?.arrayValue ?? [] {
            evidence.users.append(
                Evidence.User(
                    accountName: string(u["accountName"]), domain: string(u["domainName"]),
                    userPrincipalName: string(u["userPrincipalName"]), sid: string(u["aadUserId"])))
            if let ip = string(u["logonIp"]) { evidence.ipAddresses.append(ip) }
        }
        for f in item["fileStates"]?.arrayValue ?? [] {
            let (sha1, sha256) = hashes(f["fileHash"])
            evidence.files.append(
                Evidence.File(name: string(f["name"]), path: string(f["path"]), sha1: sha1, sha256: sha256))
        }
        for p in item["processes"]?.arrayValue ?? [] {
            let (_, sha256) = hashes(p["fileHash"])
            evidence.processes.append(
                Evidence.Process(
                    processId: p["processId"]?.intValue, parentProcessId: p["parentProcessId"]?.intValue,
                    commandLine: string(p["commandLine"]), imageName: string(p["name"]),
                    imagePath: string(p["path"]), sha256: sha256, accountName: string(p["accountName"])))
        }
        for c in item["networkConnections"]?.arrayValue ?? [] {
            for key in ["sourceAddress", "destinationAddress", "natSourceAddress", "natDestinationAddress"] {
                if let ip = string(c[key]) { evidence.ipAddresses.append(ip) }
            }
            if let url = string(c["destinationUrl"]) { evidence.urls.append(url) }
        }
        evidence.ipAddresses = unique(evidence.ipAddresses)
        evidence.urls = unique(evidence.urls)
        return SecurityAlert(
            kind: .alertV1, id: id, incidentId: strings(item["incidentIds"]).first,
            title: string(item["title"]) ?? "(untitled alert)", description: string(item["description"]),
            severity: Severity(rawValue: string(item["severity"]) ?? "unknown"),
            status: string(item["status"]) ?? "unknown",
            classification: string(item["feedback"]), category: string(item["category"]),
            vendor: string(vendorInfo?["vendor"]), provider: string(vendorInfo?["provider"]),
            detectionSource: string(vendorInfo?["subProvider"]),
            createdAt: time(item["createdDateTime"]), firstActivityAt: time(item["eventDateTime"]),
            lastActivityAt: time(item["lastEventDateTime"]), lastUpdatedAt: time(item["lastModifiedDateTime"]),
            resolvedAt: time(item["closedDateTime"]), assignedTo: string(item["assignedTo"]),
            tenantId: string(item["azureTenantId"]), webURL: strings(item["sourceMaterials"]).first,
            mitreTechniques: [], evidence: evidence, raw: raw)
    }

    static func hashes(_ fileHash: JSONValue?) -> (String?, String?) {
        guard let fileHash, let type = string(fileHash["hashType"])?.lowercased(),
            let value = string(fileHash["hashValue"])
        else {
            return (nil, nil)
        }
        switch type {
        case "sha1": return (value, nil)
        case "sha256": return (nil, value)
        default: return (nil, nil)
        }
    }

    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }

    static func user(_ account: JSONValue?) -> Evidence.User? {
        guard let account, case .object = account else { return nil }
        let u = Evidence.User(
            accountName: string(account["accountName"]), domain: string(account["domainName"]),
            userPrincipalName: string(account["userPrincipalName"]), sid: string(account["userSid"]),
            displayName: string(account["displayName"]))
        return u == Evidence.User() ? nil : u
    }

    static func file(_ details: JSONValue?) -> Evidence.File? {
        guard let details, case .object = details else { return nil }
        let f = Evidence.File(
            name: string(details["fileName"]), path: string(details["filePath"]), sha1: string(details["sha1"]),
            sha256: string(details["sha256"]), size: details["fileSize"]?.intValue)
        return f == Evidence.File() ? nil : f
    }

    static func evidenceV2(_ list: JSONValue?) -> Evidence {
        var e = Evidence()
        for item in list?.arrayValue ?? [] {
            let type = item["@odata.type"]?.stringValue ?? ""
            switch type {
            case "#microsoft.graph.security.deviceEvidence":
                e.hosts.append(
                    Evidence.Host(
                        name: string(item["hostName"]) ?? string(item["deviceDnsName"]),
                        fqdn: string(item["deviceDnsName"]), deviceId: string(item["mdeDeviceId"]),
                        os: string(item["osPlatform"]), ipAddresses: strings(item["ipInterfaces"])))
                for u in item["loggedOnUsers"]?.arrayValue ?? [] {
                    e.users.append(
                        Evidence.User(accountName: string(u["accountName"]), domain: string(u["domainName"])))
                }
            case "#microsoft.graph.security.userEvidence":
                if let u = user(item["userAccount"]) { e.users.append(u) }
            case "#microsoft.graph.security.ipEvidence":
                if let ip = string(item["ipAddress"]) { e.ipAddresses.append(ip) }
            case "#microsoft.graph.security.urlEvidence":
                if let url = string(item["url"]) { e.urls.append(url) }
            case "#microsoft.graph.security.fileEvidence":
                if let f = file(item["fileDetails"]) { e.files.append(f) }
            case "#microsoft.graph.security.processEvidence":
                let image = file(item["imageFile"])
                let account = user(item["userAccount"])
                e.processes.append(
                    Evidence.Process(
                        processId: item["processId"]?.intValue, parentProcessId: item["parentProcessId"]?.intValue,
                        commandLine: string(item["processCommandLine"]), imageName: image?.name,
                        imagePath: image?.path, sha256: image?.sha256, accountName: account?.accountName))
                if let account { e.users.append(account) }
            case "#microsoft.graph.security.mailboxEvidence":
                if let u = user(item["userAccount"]) { e.users.append(u) }
            default:
                break
            }
        }
        e.ipAddresses = unique(e.ipAddresses)
        e.urls = unique(e.urls)
        var seenUsers = Set<Evidence.User>()
        e.users = e.users.filter { seenUsers.insert($0).inserted }
        return e
    }
}
