public import CollectorCore

extension OCSFEncoder {
    /// OCSF's `string_t` limit, in characters.
    static let maxString = 65_535

    /// An alert or incident as a Detection Finding (class 2004).
    func finding(_ a: SecurityAlert) -> JSONValue {
        var o = ObjectBuilder()
        let (statusID, statusName) = OCSFFormat.status(a.status)
        let activity: (Int, String) =
            statusID == 4
            ? (3, "Close") : (a.lastUpdatedAt == nil || a.lastUpdatedAt == a.createdAt ? (1, "Create") : (2, "Update"))
        classification(into: &o, category: (2, "Findings"), klass: (2004, "Detection Finding"), activity: activity)
        let (severityID, severityName) = OCSFFormat.severity(a.severity)
        o["severity_id"] = .number(String(severityID))
        o["severity"] = .string(severityName)
        o["status_id"] = .number(String(statusID))
        o["status"] = .string(statusName)
        o["time"] = Self.milliseconds(a.lastUpdatedAt ?? a.createdAt ?? a.firstActivityAt) ?? .number("0")
        o["start_time"] = Self.milliseconds(a.firstActivityAt)
        o["end_time"] = Self.milliseconds(a.lastActivityAt)
        o["message"] = .string(String(a.title.prefix(Self.maxString)))
        var product = ObjectBuilder()
        product["name"] = .string(a.serviceSource ?? a.provider ?? "Microsoft Graph Security")
        product["vendor_name"] = .string(a.vendor ?? "Microsoft")
        o["metadata"] = metadata(
            product: product.value, uid: a.id, originalTime: a.raw.member("lastUpdateDateTime")?.stringValue,
            tenant: a.tenantId)
        o["finding_info"] = findingInfo(a)
        let evidences = evidences(a)
        if !evidences.isEmpty { o["evidences"] = .array(evidences) }
        let observables = observables(a)
        if !observables.isEmpty { o["observables"] = .array(observables) }
        o["unmapped"] = unmapped(a)
        if format.includeRaw {
            // OCSF strings hold at most 65,535 characters.
            if a.raw.byteCount <= Self.maxString { o["raw_data"] = .string(a.raw.description) }
        }
        return o.value
    }

    func findingInfo(_ a: SecurityAlert) -> JSONValue {
        var f = ObjectBuilder()
        f["uid"] = .string(a.id)
        f["title"] = .string(a.title.isEmpty ? "(untitled)" : String(a.title.prefix(Self.maxString)))
        f["desc"] = Self.string(a.description.map { String($0.prefix(Self.maxString)) })
        if let category = a.category, !category.isEmpty { f["types"] = .array([.string(category)]) }
        f["created_time"] = Self.milliseconds(a.createdAt)
        f["first_seen_time"] = Self.milliseconds(a.firstActivityAt)
        f["last_seen_time"] = Self.milliseconds(a.lastActivityAt)
        f["modified_time"] = Self.milliseconds(a.lastUpdatedAt)
        f["src_url"] = Self.string(a.webURL)
        if let source = a.detectionSource, !source.isEmpty {
            f["analytic"] = .object([
                ("name", .string(source)), ("type_id", .number("0")), ("type", .string("Unknown")),
            ])
        }
        let attacks = a.mitreTechniques.filter { !$0.isEmpty }.map { technique -> JSONValue in
            .object([("technique", .object([("uid", .string(technique))]))])
        }
        if !attacks.isEmpty { f["attacks"] = .array(attacks) }
        return f.value
    }

    /// Graph's evidence as OCSF evidences: from 1.3.0 as `device`, `user`, `url`, `file`,
    /// `process` and `src_endpoint` objects; before, the entities 1.1.0 lacks go in `data`.
    func evidences(_ a: SecurityAlert) -> [JSONValue] {
        let e = a.evidence
        var result: [JSONValue] = []
        let entities = format.version.hasEntityEvidence
        for host in e.hosts {
            var d = ObjectBuilder()
            d["type_id"] = .number("0")
            d["name"] = Self.string(host.name ?? host.fqdn ?? host.deviceId)
            d["hostname"] = (host.fqdn ?? host.name).flatMap {
                NetworkNames.isHostname($0, underscores: false) ? .string($0) : nil
            }
            d["uid"] = Self.string(host.deviceId)
            d["ip"] = host.ipAddresses.first { NetworkNames.isIPAddress($0) }.map(JSONValue.string)
            guard d.members.count > 1 else { continue }
            result.append(.object([(entities ? "device" : "data", d.value)]))
        }
        for user in e.users {
            var u = ObjectBuilder()
            u["name"] = Self.string(user.accountName ?? user.userPrincipalName ?? user.displayName)
            u["uid"] = Self.string(user.sid)
            u["domain"] = Self.string(user.domain)
            u["full_name"] = Self.string(user.displayName)
            // OCSF wants a name or a uid (or an account) in a user.
            guard u["name"] != nil || u["uid"] != nil else { continue }
            result.append(.object([(entities ? "user" : "data", u.value)]))
        }
        for url in e.urls where !url.isEmpty {
            let value: JSONValue = .object([("url_string", .string(url))])
            result.append(.object([(entities ? "url" : "data", value)]))
        }
        for ip in e.ipAddresses where NetworkNames.isIPAddress(ip) {
            result.append(.object([("src_endpoint", .object([("ip", .string(ip))]))]))
        }
        for file in e.files {
            guard let f = Self.file(name: file.name, path: file.path, sha1: file.sha1, sha256: file.sha256) else {
                continue
            }
            result.append(.object([("file", f)]))
        }
        for process in e.processes {
            var p = ObjectBuilder()
            p["pid"] = Self.number(process.processId)
            p["cmd_line"] = Self.string(process.commandLine.map { String($0.prefix(Self.maxString)) })
            p["name"] = Self.string(process.imageName)
            p["file"] = Self.file(name: process.imageName, path: process.imagePath, sha1: nil, sha256: process.sha256)
            // OCSF wants a pid or a uid in a process.
            guard p["pid"] != nil else { continue }
            result.append(.object([("process", p.value)]))
        }
        return result
    }

    static func file(name: String?, path: String?, sha1: String?, sha256: String?) -> JSONValue? {
        guard let name = name.flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        var f = ObjectBuilder()
        f["name"] = .string(name)
        f["type_id"] = .number("1")
        f["type"] = .string("Regular File")
        f["path"] = Self.string(path)
        var hashes: [JSONValue] = []
        for (id, value) in [(2, sha1), (3, sha256)] {
            guard let value, !value.isEmpty, value.utf8.count <= 64 else { continue }
            hashes.append(.object([("algorithm_id", .number(String(id))), ("value", .string(value))]))
        }
        if !hashes.isEmpty { f["hashes"] = .array(hashes) }
        return f.value
    }

    /// What an analyst pivots on: host names, addresses, users, URLs, files and hashes.
    func observables(_ a: SecurityAlert) -> [JSONValue] {
        var result: [JSONValue] = []
        func add(_ name: String, _ type: Int, _ caption: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            result.append(
                .object([
                    ("name", .string(name)), ("type_id", .number(String(type))), ("type", .string(caption)),
                    ("value", .string(value)),
                ]))
        }
        let e = a.evidence
        for host in e.hosts { add("device.hostname", 1, "Hostname", host.fqdn ?? host.name) }
        for ip in e.ipAddresses + e.hosts.flatMap(\.ipAddresses) where NetworkNames.isIPAddress(ip) {
            add("src_endpoint.ip", 2, "IP Address", ip)
        }
        for user in e.users { add("user.name", 4, "User Name", user.accountName ?? user.userPrincipalName) }
        for url in e.urls { add("url.url_string", 6, "URL String", url) }
        for file in e.files {
            add("file.name", 7, "File Name", file.name)
            add("file.hashes.value", 8, "Hash", file.sha256 ?? file.sha1)
        }
        return result
    }

    /// Graph's fields that have no OCSF attribute of their own.
    func unmapped(_ a: SecurityAlert) -> JSONValue {
        var u = ObjectBuilder()
        u["kind"] = .string(a.kind.rawValue)
        u["graph_status"] = .string(a.status)
        u["graph_severity"] = .string(a.severity.rawValue)
        u["provider_alert_id"] = Self.string(a.providerAlertId)
        u["incident_id"] = Self.string(a.incidentId)
        u["classification"] = Self.string(a.classification)
        u["determination"] = Self.string(a.determination)
        u["provider"] = Self.string(a.provider)
        u["service_source"] = Self.string(a.serviceSource)
        u["detection_source"] = Self.string(a.detectionSource)
        u["assigned_to"] = Self.string(a.assignedTo)
        u["tenant_id"] = Self.string(a.tenantId)
        u["resolved_time"] = Self.milliseconds(a.resolvedAt)
        return u.value
    }
}
