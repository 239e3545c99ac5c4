public import CollectorCore

/// For sink authors' tests: alerts whose values are full of what breaks LEEF and syslog: the header and pair
/// delimiters, escape characters, control characters, non-ASCII text and very long strings.
public enum TrickyEvents {
    public static let nasty = "a|b=c\\d\te\nf\rg^h x5E 日本語 ü 🚨 \u{1} end"

    public static func alert(_ n: Int, descriptionLength: Int = 0) -> Event {
        let time = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_123_000_000 + Int64(n) * 1_000_000_000)
        let long =
            descriptionLength > 0
            ? String(repeating: "Long text ✓ with = and | and ^. ", count: descriptionLength / 34 + 1) : nil
        return .alert(
            SecurityAlert(
                kind: .alertV2, id: "tricky-\(n)", providerAlertId: "p|\(n)", incidentId: "\(n % 7)",
                title: "Suspicious \(nasty) #\(n)", description: long ?? "Desc \(nasty)",
                severity: [.high, .medium, .low, .informational, .unknown][n % 5], status: "new",
                classification: "truePositive", determination: "malware", category: "Cred|Access=\(n)",
                vendor: "Microsoft", provider: "Microsoft Defender for Endpoint", detectionSource: "antivirus",
                serviceSource: "microsoftDefenderForEndpoint", createdAt: time, firstActivityAt: time,
                lastActivityAt: time,
                lastUpdatedAt: time, assignedTo: "sóc@example.com", tenantId: "tenant-\(n % 3)",
                webURL: "https://security.microsoft.com/alerts/tricky-\(n)?a=1&b=2",
                mitreTechniques: ["T1003", "T1059.001"],
                evidence: Evidence(
                    hosts: [.init(name: "ws-\(n)", fqdn: "ws-\(n).corp.example", ipAddresses: ["10.1.0.\(n % 250)"])],
                    users: [.init(accountName: "jdoe", domain: "CORP", userPrincipalName: "jdoe@corp.example")],
                    ipAddresses: ["192.0.2.\(n % 250)"], urls: ["http://evil.example/p?x=\(nasty)"],
                    files: [
                        .init(
                            name: "mimi\tkatz.exe", path: "C:\\Temp", sha1: String(repeating: "1", count: 40),
                            sha256: String(repeating: "f", count: 64))
                    ],
                    processes: [.init(processId: 42, commandLine: "cmd.exe /c \"echo ^|^= \(nasty)\"")]),
                raw: [
                    "id": .string("tricky-\(n)"), "detectorId": .string("det-\(n % 4)"),
                    "evidence": [["remoteIpAddress": .string("203.0.113.\(n % 250)")]],
                ]))
    }
}
