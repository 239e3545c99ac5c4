public import CollectorCore

extension ECSEncoder {
    /// An alert or incident: `event.kind: alert`, its rule, its ATT&CK techniques, and the first
    /// entity of each kind from the evidence.
    func alert(_ a: SecurityAlert, into d: inout ObjectBuilder) {
        var e = ObjectBuilder()
        e["kind"] = .string("alert")
        e["category"] = .array(Self.categories(a).map(JSONValue.string))
        e["type"] = .array([.string("info")])
        e["id"] = .string(a.id)
        e["severity"] = ECSFormat.severity(a.severity).map { .number(String($0)) }
        e["created"] = Self.time(a.createdAt)
        e["start"] = Self.time(a.firstActivityAt)
        e["end"] = Self.time(a.lastActivityAt)
        e["url"] = Self.string(a.webURL)
        e["provider"] = Self.string(a.serviceSource ?? a.provider)
        e["dataset"] = .string(a.kind == .incident ? "graph_collector.incident" : "graph_collector.alert")
        e["module"] = .string("graph_collector")
        if format.includeOriginal {
            e["original"] = .string(a.raw.description)
        }
        d["event"] = e.value
        d["message"] = .string(a.description.flatMap { $0.isEmpty ? nil : $0 } ?? a.title)
        if a.kind != .incident {
            var r = ObjectBuilder()
            r["name"] = .string(a.title)
            r["description"] = Self.string(a.description)
            r["category"] = Self.string(a.category)
            r["id"] = Self.string(a.raw.member("detectorId")?.stringValue)
            d["rule"] = r.value
        }
        d["threat"] = threat(a)
        var observer = ObjectBuilder()
        observer["vendor"] = Self.string(a.vendor)
        observer["product"] = Self.string(a.provider)
        if !observer.isEmpty { d["observer"] = observer.value }
        if let tenant = a.tenantId, !tenant.isEmpty {
            d["cloud"] = .object([("provider", .string("azure")), ("account", .object([("id", .string(tenant))]))])
        }
        entities(a.evidence, into: &d)
    }

    /// `intrusion_detection` always; `malware` and `email` when the determination, category or
    /// source says so (sorted, as ECS lists them).
    static func categories(_ a: SecurityAlert) -> [String] {
        var result: Set<String> = ["intrusion_detection"]
        let determination = a.determination?.lowercased() ?? ""
        let category = a.category?.lowercased() ?? ""
        if ["malware", "unwantedsoftware"].contains(determination)
            || ["malware", "ransomware", "unwantedsoftware"].contains(category)
        {
            result.insert("malware")
        }
        let sources = [a.serviceSource, a.detectionSource].compactMap { $0?.lowercased() }
        if determination == "phishing" || sources.contains("microsoftdefenderforoffice365") {
            result.insert("email")
        }
        return result.sorted()
    }

    func threat(_ a: SecurityAlert) -> JSONValue? {
        let techniques = a.mitreTechniques.filter { !$0.isEmpty }
        let tactic = a.category.flatMap { ECSFormat.tactics[$0.lowercased()] }
        guard !techniques.isEmpty || tactic != nil else { return nil }
        var t = ObjectBuilder()
        t["framework"] = .string("MITRE ATT&CK")
        if !techniques.isEmpty {
            let parents = techniques.map { String($0.split(separator: ".").first ?? Substring($0)) }
            let subs = techniques.filter { $0.contains(".") }
            var technique = ObjectBuilder()
            technique["id"] = Self.strings(parents)
            technique["subtechnique"] = Self.strings(subs).map { .object([("id", $0)]) }
            t["technique"] = technique.value
        }
        if let tactic, let name = a.category {
            t["tactic"] = .object([("id", .array([.string(tactic)])), ("name", .array([.string(name)]))])
        }
        return t.value
    }

    /// The first host, user, file, process and URL in their field sets; every value in `related`.
    func entities(_ e: Evidence, into d: inout ObjectBuilder) {
        let ips = (e.ipAddresses + e.hosts.flatMap(\.ipAddresses)).filter(NetworkNames.isIPAddress)
        if let host = e.hosts.first {
            var h = ObjectBuilder()
            h["name"] = Self.string((host.fqdn ?? host.name)?.lowercased())
            h["hostname"] = Self.string(host.name)
            h["id"] = Self.string(host.deviceId)
            h["ip"] = Self.strings(host.ipAddresses.filter(NetworkNames.isIPAddress))
            h["os"] = Self.string(host.os).map { .object([("name", $0)]) }
            if !h.isEmpty { d["host"] = h.value }
        }
        if let user = e.users.first {
            var u = ObjectBuilder()
            u["name"] = Self.string(user.accountName ?? user.userPrincipalName)
            u["domain"] = Self.string(user.domain)
            u["id"] = Self.string(user.sid)
            u["email"] = user.userPrincipalName.flatMap { $0.contains("@") ? .string($0) : nil }
            u["full_name"] = Self.string(user.displayName)
            if !u.isEmpty { d["user"] = u.value }
        }
        d["source"] = ips.first.map { .object([("ip", .string($0))]) }
        if let url = e.urls.first(where: { !$0.isEmpty }) { d["url"] = .object([("full", .string(url))]) }
        if let file = e.files.first { d["file"] = Self.file(file) }
        if let process = e.processes.first { d["process"] = Self.process(process) }
        var related = ObjectBuilder()
        related["ip"] = Self.strings(ips)
        related["user"] = Self.strings(e.users.compactMap { $0.accountName ?? $0.userPrincipalName })
        related["hosts"] = Self.strings(e.hosts.compactMap { ($0.fqdn ?? $0.name)?.lowercased() })
        related["hash"] = Self.strings(e.files.flatMap { [$0.sha1, $0.sha256].compactMap { $0 } })
        if !related.isEmpty { d["related"] = related.value }
    }

    static func file(_ f: Evidence.File) -> JSONValue? {
        var o = ObjectBuilder()
        o["name"] = Self.string(f.name)
        o["path"] = Self.string(NetworkNames.fullPath(f.path, f.name))
        o["size"] = f.size.map { .number(String($0)) }
        var hash = ObjectBuilder()
        hash["sha1"] = Self.string(f.sha1)
        hash["sha256"] = Self.string(f.sha256)
        if !hash.isEmpty { o["hash"] = hash.value }
        return o.isEmpty ? nil : o.value
    }

    static func process(_ p: Evidence.Process) -> JSONValue? {
        var o = ObjectBuilder()
        o["pid"] = p.processId.map { .number(String($0)) }
        o["parent"] = p.parentProcessId.map { .object([("pid", .number(String($0)))]) }
        o["command_line"] = Self.string(p.commandLine)
        o["name"] = Self.string(p.imageName)
        o["executable"] = Self.string(NetworkNames.fullPath(p.imagePath, p.imageName))
        o["hash"] = Self.string(p.sha256).map { .object([("sha256", $0)]) }
        o["user"] = Self.string(p.accountName).map { .object([("name", $0)]) }
        return o.isEmpty ? nil : o.value
    }
}
