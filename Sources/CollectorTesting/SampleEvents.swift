public import CollectorCore

/// Small, valid events for tests.
public enum SampleEvents {
    /// Alert number `n`, with evidence, a severity from the four levels and a distinct time.
    public static func alert(_ n: Int, tenant: String = "tenant-a") -> Event {
        let time = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_000_000_000 + Int64(n) * 1_000_000_000)
        let severities: [Severity] = [.informational, .low, .medium, .high]
        return .alert(
            SecurityAlert(
                kind: .alertV2, id: "alert-\(n)", providerAlertId: "p-\(n)", title: "Sample alert \(n)",
                description: "Line one\nline \"two\"", severity: severities[n % 4], status: "new",
                category: "Execution",
                vendor: "Microsoft", provider: "microsoftDefenderForEndpoint", createdAt: time, lastUpdatedAt: time,
                tenantId: tenant, mitreTechniques: ["T1059.001"],
                evidence: Evidence(
                    hosts: [.init(name: "ws-\(n)", ipAddresses: ["10.0.0.\(n % 250)"])],
                    files: [.init(name: "a.exe", sha256: String(repeating: "ab", count: 32))]),
                raw: ["id": .string("alert-\(n)"), "osBuild": 22424, "ratio": .number("1.10")]))
    }

    public static func alerts(_ range: Range<Int>) -> [Event] { range.map { alert($0) } }

    public static func providerWarning(status: Int = 504) -> Event {
        .providerWarning(
            ProviderWarning(
                vendor: "Microsoft", provider: "Microsoft Defender ATP", httpStatus: status,
                latencyMilliseconds: 10_000,
                query: "/v1.0/security/alerts?$top=100", endpoint: "alerts", tenantId: "tenant-a",
                observedAt: Timestamp(nanosecondsSinceEpoch: 1_763_900_000_000_000_000),
                diagnosis: "The provider timed out.", isPersistent: false,
                rawItem: "199 - \"Microsoft/Microsoft Defender ATP/\(status)/10000\""))
    }
}
