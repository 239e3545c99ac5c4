/// One security alert or incident from the Graph Security API, normalized across its shapes:
/// legacy `/security/alerts` (v1), `/security/alerts_v2`, and `/security/incidents`.
///
/// Every field the collector understands is lifted into a typed property; the document the API
/// returned is kept whole in ``raw``, member order and number text included, so a sink can
/// always reach a field this type does not model.
public struct SecurityAlert: Sendable, Hashable {
    /// Which Graph resource the alert came from.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Legacy federated `/security/alerts` (v1, being retired).
        case alertV1 = "alert_v1"
        /// `/security/alerts_v2`.
        case alertV2 = "alert_v2"
        /// `/security/incidents`.
        case incident
    }

    public var kind: Kind
    /// The Graph id of the alert (or incident).
    public var id: String
    /// The id the detecting product uses (v2 `providerAlertId`; v1 has none).
    public var providerAlertId: String?
    /// The incident this alert belongs to (v2 `incidentId`, first of v1 `incidentIds`).
    public var incidentId: String?
    public var title: String
    public var description: String?
    public var severity: Severity
    /// Status as the API wrote it (`new`, `inProgress`, `resolved`, `active`, `newAlert`, …).
    public var status: String
    /// v2/incidents `classification` (`truePositive`, …); v1 `feedback`.
    public var classification: String?
    /// v2/incidents `determination` (`malware`, `multiStagedAttack`, …).
    public var determination: String?
    public var category: String?
    /// The vendor (v1 `vendorInformation.vendor`; `Microsoft` for v2 and incidents).
    public var vendor: String?
    /// The product that raised it (v1 `vendorInformation.provider`; v2 `productName` or `serviceSource`).
    public var provider: String?
    /// v2 `detectionSource` (`antivirus`, `customTi`, …).
    public var detectionSource: String?
    /// v2 `serviceSource` (`microsoftDefenderForEndpoint`, …).
    public var serviceSource: String?
    /// When the provider created it.
    public var createdAt: Timestamp?
    /// First activity (v2 `firstActivityDateTime`; v1 `eventDateTime`).
    public var firstActivityAt: Timestamp?
    /// Last activity (v2 `lastActivityDateTime`; v1 `lastEventDateTime`).
    public var lastActivityAt: Timestamp?
    /// Last change to the alert (v2/incidents `lastUpdateDateTime`; v1 `lastModifiedDateTime`):
    /// the collection watermark and, with ``id``, the duplicate key.
    public var lastUpdatedAt: Timestamp?
    /// When it was resolved or closed (v2 `resolvedDateTime`; v1 `closedDateTime`).
    public var resolvedAt: Timestamp?
    public var assignedTo: String?
    /// v2/incidents `tenantId`; v1 `azureTenantId`.
    public var tenantId: String?
    /// A link to the alert in the vendor's portal (v2 `alertWebUrl`, incidents `incidentWebUrl`,
    /// v1 first `sourceMaterials`).
    public var webURL: String?
    /// MITRE ATT&CK technique ids (`T1564.001`).
    public var mitreTechniques: [String]
    public var evidence: Evidence
    /// The alert as the API returned it, as compact JSON text (member order and number text kept).
    public var raw: RawJSON

    public init(
        kind: Kind, id: String, providerAlertId: String? = nil, incidentId: String? = nil, title: String,
        description: String? = nil, severity: Severity = .unknown, status: String = "unknown",
        classification: String? = nil, determination: String? = nil, category: String? = nil,
        vendor: String? = nil, provider: String? = nil, detectionSource: String? = nil,
        serviceSource: String? = nil, createdAt: Timestamp? = nil, firstActivityAt: Timestamp? = nil,
        lastActivityAt: Timestamp? = nil, lastUpdatedAt: Timestamp? = nil, resolvedAt: Timestamp? = nil,
        assignedTo: String? = nil, tenantId: String? = nil, webURL: String? = nil,
        mitreTechniques: [String] = [], evidence: Evidence = Evidence(), raw: RawJSON = .null
    ) {
        self.kind = kind
        self.id = id
        self.providerAlertId = providerAlertId
        self.incidentId = incidentId
        self.title = title
        self.description = description
        self.severity = severity
        self.status = status
        self.classification = classification
        self.determination = determination
        self.category = category
        self.vendor = vendor
        self.provider = provider
        self.detectionSource = detectionSource
        self.serviceSource = serviceSource
        self.createdAt = createdAt
        self.firstActivityAt = firstActivityAt
        self.lastActivityAt = lastActivityAt
        self.lastUpdatedAt = lastUpdatedAt
        self.resolvedAt = resolvedAt
        self.assignedTo = assignedTo
        self.tenantId = tenantId
        self.webURL = webURL
        self.mitreTechniques = mitreTechniques
        self.evidence = evidence
        self.raw = raw
    }

    /// The key that identifies one version of an alert: an update to the alert has a new key.
    public var deduplicationKey: String {
        "\(id)@\(lastUpdatedAt?.iso8601(fractionDigits: 9) ?? "-")"
    }
}

/// The entities an alert names, flattened from v2 typed `evidence` and the v1 `*States` lists.
public struct Evidence: Sendable, Hashable {
    public struct Host: Sendable, Hashable {
        public var name: String?
        public var fqdn: String?
        public var deviceId: String?
        public var os: String?
        public var ipAddresses: [String]
        public init(
            name: String? = nil, fqdn: String? = nil, deviceId: String? = nil, os: String? = nil,
            ipAddresses: [String] = []
        ) {
            self.name = name
            self.fqdn = fqdn
            self.deviceId = deviceId
            self.os = os
            self.ipAddresses = ipAddresses
        }
    }

    public struct User: Sendable, Hashable {
        public var accountName: String?
        public var domain: String?
        public var userPrincipalName: String?
        public var sid: String?
        public var displayName: String?
        public init(
            accountName: String? = nil, domain: String? = nil, userPrincipalName: String? = nil, sid: String? = nil,
            displayName: String? = nil
        ) {
            self.accountName = accountName
            self.domain = domain
            self.userPrincipalName = userPrincipalName
            self.sid = sid
            self.displayName = displayName
        }
    }

    public struct File: Sendable, Hashable {
        public var name: String?
        public var path: String?
        public var sha1: String?
        public var sha256: String?
        public var size: Int?
        public init(
            name: String? = nil, path: String? = nil, sha1: String? = nil, sha256: String? = nil, size: Int? = nil
        ) {
            self.name = name
            self.path = path
            self.sha1 = sha1
            self.sha256 = sha256
            self.size = size
        }
    }

    public struct Process: Sendable, Hashable {
        public var processId: Int?
        public var parentProcessId: Int?
        public var commandLine: String?
        public var imageName: String?
        public var imagePath: String?
        public var sha256: String?
        public var accountName: String?
        public init(
            processId: Int? = nil, parentProcessId: Int? = nil, commandLine: String? = nil, imageName: String? = nil,
            imagePath: String? = nil, sha256: String? = nil, accountName: String? = nil
        ) {
            self.processId = processId
            self.parentProcessId = parentProcessId
            self.commandLine = commandLine
            self.imageName = imageName
            self.imagePath = imagePath
            self.sha256 = sha256
            self.accountName = accountName
        }
    }

    public var hosts: [Host]
    public var users: [User]
    public var ipAddresses: [String]
    public var urls: [String]
    public var files: [File]
    public var processes: [Process]

    public init(
        hosts: [Host] = [], users: [User] = [], ipAddresses: [String] = [], urls: [String] = [], files: [File] = [],
        processes: [Process] = []
    ) {
        self.hosts = hosts
        self.users = users
        self.ipAddresses = ipAddresses
        self.urls = urls
        self.files = files
        self.processes = processes
    }

    public var isEmpty: Bool {
        hosts.isEmpty && users.isEmpty && ipAddresses.isEmpty && urls.isEmpty && files.isEmpty && processes.isEmpty
    }
}
