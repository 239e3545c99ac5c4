public import CollectorCore

/// Makes realistic `alerts_v2` items (the shape of Microsoft's published samples, with device,
/// user, file, process, IP and URL evidence) from a number, deterministically: item `n` of a
/// generator with a given seed is always the same. The synthetic source and the tests use it;
/// the Graph simulator will serve it.
package struct AlertGenerator: Sendable {
    package var seed: UInt64
    package var tenantId: String
    /// The time of item 0; item `n` is `spacing` later than item `n - 1`.
    package var start: Timestamp
    package var spacingMilliseconds: Int64

    package init(
        seed: UInt64 = 1, tenantId: String = "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c",
        start: Timestamp, spacingMilliseconds: Int64 = 1000
    ) {
        self.seed = seed
        self.tenantId = tenantId
        self.start = start
        self.spacingMilliseconds = spacingMilliseconds
    }

    static let titles: [(String, String, String, [String])] = [
        ("Suspicious execution of hidden file", "DefenseEvasion", "antivirus", ["T1564.001"]),
        ("Suspicious PowerShell command line", "Execution", "microsoftDefenderForEndpoint", ["T1059.001"]),
        (
            "Possible credential theft via LSASS access", "CredentialAccess", "microsoftDefenderForEndpoint",
            ["T1003.001"]
        ),
        ("Anomalous token usage from unfamiliar location", "InitialAccess", "microsoftDefenderForCloudApps", ["T1078"]),
        ("Ransomware behavior detected in the file system", "Impact", "antivirus", ["T1486"]),
        ("Phishing link clicked by user", "InitialAccess", "microsoftDefenderForOffice365", ["T1566.002"]),
        ("Connection to a known command-and-control server", "CommandAndControl", "customTi", ["T1071.001", "T1573"]),
    ]
    /// Enum members Graph added after v1.0 shipped: served as `unknownFutureValue` unless the
    /// request says `Prefer: include-unknown-enum-members` (evolvable enums).
    package static let evolvableDetectionSources = [
        "microsoftSentinel", "nrtAlerts", "scheduledAlerts", "microsoftDefenderForAIServices", "securityCopilot",
    ]
    package static let evolvableServiceSources = ["microsoftSentinel", "microsoftDefenderForCloud"]
    static let severities = ["informational", "low", "medium", "high"]
    static let statuses = ["new", "inProgress", "resolved"]
    static let services = [
        "microsoftDefenderForEndpoint", "microsoftDefenderForIdentity", "microsoftDefenderForOffice365",
        "microsoftDefenderForCloudApps",
    ]

    /// SplitMix64: a small, good, stateless mixer.
    package static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func hex(_ value: UInt64, _ digits: Int) -> String {
        let s = String(value, radix: 16)
        return s.count >= digits ? String(s.suffix(digits)) : String(repeating: "0", count: digits - s.count) + s
    }

    /// The id of item `n`.
    package func id(_ n: Int) -> String {
        "da\(Self.hex(Self.mix(seed ^ UInt64(n)), 16))_\(n)"
    }

    /// Item `n`, at revision `revision` (a later revision is the same alert, updated later with
    /// a new status: what an update looks like in Graph).
    package func alert(_ n: Int, revision: Int = 0) -> JSONValue {
        let created = start.adding(seconds: Double(Int64(n) * spacingMilliseconds) / 1000)
        return alert(n, created: created, updated: created.adding(seconds: Double(revision) * 3600), revision: revision)
    }

    /// Item `n` with explicit creation and update times.
    package func alert(_ n: Int, created: Timestamp, updated: Timestamp, revision: Int) -> JSONValue {
        let traits = Traits(Self.mix(seed &+ UInt64(n) &* 0x1000_0001))
        let (r, pick, host, user) = (traits.r, traits.pick, traits.host, traits.user)
        let (title, category, detection, techniques) = Self.titles[pick(0, Self.titles.count)]
        let id = self.id(n)
        let status = Self.statuses[min(revision, 2)]
        let incident = String(20_000 + n / 3)
        let time = { (t: Timestamp) -> JSONValue in .string(t.iso8601()) }
        // One alert in seven comes from a detector Graph added after v1.0 (Sentinel, NRT rules, …).
        let evolvable = n % 7 == 3
        return [
            "@odata.type": "#microsoft.graph.security.alert",
            "id": .string(id),
            "providerAlertId": .string(id),
            "incidentId": .string(incident),
            "status": .string(status),
            "severity": .string(Self.severities[pick(5, 4)]),
            "classification": revision >= 2 ? "truePositive" : "unknown",
            "determination": revision >= 2 ? "malware" : "unknown",
            "serviceSource": .string(
                evolvable ? Self.evolvableServiceSources[n % 2] : Self.services[pick(6, Self.services.count)]),
            "detectionSource": .string(evolvable ? Self.evolvableDetectionSources[n % 5] : detection),
            "detectorId": .string("e0da400f-affd-43ef-b1d5-\(Self.hex(r, 12))"),
            "tenantId": .string(tenantId),
            "title": .string(title),
            "description": .string("\(title) on \(host). This activity could indicate a compromised host."),
            "recommendedActions":
                "Collect artifacts and determine scope\n\tReview the machine timeline for suspicious activities.",
            "category": .string(category),
            "assignedTo": revision > 0 ? .string("\(user)@contoso.onmicrosoft.com") : nil,
            "alertWebUrl": .string("https://security.microsoft.com/alerts/\(id)?tid=\(tenantId)"),
            "incidentWebUrl": .string("https://security.microsoft.com/incidents/\(incident)?tid=\(tenantId)"),
            "actorDisplayName": nil,
            "threatDisplayName": nil,
            "threatFamilyName": nil,
            "mitreTechniques": .array(techniques.map(JSONValue.string)),
            "createdDateTime": time(created),
            "lastUpdateDateTime": time(updated),
            "resolvedDateTime": revision >= 2 ? time(updated) : nil,
            "firstActivityDateTime": time(created.adding(seconds: -120)),
            "lastActivityDateTime": time(created.adding(seconds: -5)),
            "comments": [],
            "evidence": Self.evidence(traits, created: created),
            "systemTags": [],
        ]
    }

    /// What an alert's draw decides: its host, user, address and file hashes.
    struct Traits {
        let r: UInt64
        let host, user, ip, sha1, sha256: String

        init(_ r: UInt64) {
            self.r = r
            let pick = { (k: Int, count: Int) -> Int in Int((r >> UInt64(k * 8)) % UInt64(count)) }
            host = "ws-\(AlertGenerator.hex(r, 4)).contoso.local"
            user = ["alice", "bob", "carol", "dave", "erin"][pick(1, 5)]
            ip = "10.\(pick(2, 250)).\(pick(3, 250)).\(pick(4, 250) + 1)"
            sha256 =
                AlertGenerator.hex(AlertGenerator.mix(r), 16) + AlertGenerator.hex(AlertGenerator.mix(r ^ 1), 16)
                + AlertGenerator.hex(AlertGenerator.mix(r ^ 2), 16) + AlertGenerator.hex(AlertGenerator.mix(r ^ 3), 16)
            sha1 =
                AlertGenerator.hex(AlertGenerator.mix(r ^ 4), 16) + AlertGenerator.hex(AlertGenerator.mix(r ^ 5), 16)
                + AlertGenerator.hex(AlertGenerator.mix(r ^ 6), 8)
        }

        func pick(_ k: Int, _ count: Int) -> Int { Int((r >> UInt64(k * 8)) % UInt64(count)) }
    }

    /// The alert's evidence: a device, a process, a file, an address and a URL.
    static func evidence(_ t: Traits, created: Timestamp) -> JSONValue {
        [
            [
                "@odata.type": "#microsoft.graph.security.deviceEvidence",
                "createdDateTime": .string(created.iso8601()),
                "verdict": "unknown",
                "remediationStatus": "none",
                "mdeDeviceId": .string(Self.hex(Self.mix(t.r ^ 7), 16) + Self.hex(Self.mix(t.r ^ 8), 16)),
                "deviceDnsName": .string(t.host),
                "osPlatform": "Windows10",
                "osBuild": .number(String(19_041 + t.pick(7, 4000))),
                "ipInterfaces": [.string(t.ip)],
                "loggedOnUsers": [["accountName": .string(t.user), "domainName": "CONTOSO"]],
                "roles": ["compromised"],
                "tags": [],
            ],
            [
                "@odata.type": "#microsoft.graph.security.processEvidence",
                "createdDateTime": .string(created.iso8601()),
                "verdict": "suspicious",
                "remediationStatus": "none",
                "processId": .number(String(1000 + t.pick(1, 250) * 17)),
                "parentProcessId": 668,
                "processCommandLine": "powershell.exe -NoProfile -EncodedCommand SQBFAFgA",
                "imageFile": [
                    "t.sha1": .string(t.sha1), "t.sha256": .string(t.sha256), "fileName": "powershell.exe",
                    "filePath": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0", "fileSize": 450560,
                ],
                "userAccount": [
                    "accountName": .string(t.user), "domainName": "CONTOSO",
                    "userSid": "S-1-5-21-1004336348-1177238915-682003330-1001",
                    "userPrincipalName": .string("\(t.user)@contoso.com"), "displayName": .string(t.user.capitalized),
                ],
            ],
            [
                "@odata.type": "#microsoft.graph.security.fileEvidence",
                "createdDateTime": .string(created.iso8601()),
                "verdict": "malicious",
                "remediationStatus": "prevented",
                "fileDetails": [
                    "t.sha1": .string(t.sha1), "t.sha256": .string(t.sha256),
                    "fileName": .string("payload-\(Self.hex(t.r, 6)).dll"),
                    "filePath": "C:\\Users\\Public\\Downloads",
                    "fileSize": .number(String(4096 + t.pick(2, 200) * 512)),
                ],
            ],
            [
                "@odata.type": "#microsoft.graph.security.ipEvidence",
                "ipAddress": .string("203.0.113.\(t.pick(3, 254) + 1)"),
            ],
            [
                "@odata.type": "#microsoft.graph.security.urlEvidence",
                "url": .string("https://malicious-\(Self.hex(t.r, 6)).example/stage2"),
            ],
        ]
    }
}

extension String {
    var capitalized: String { prefix(1).uppercased() + dropFirst() }
}
