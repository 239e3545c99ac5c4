import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import Testing

func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return Array(try Data(contentsOf: url))
}

@Suite struct NormalizerTests {
    @Test func normalizesMicrosoftsAlertsV2Sample() throws {
        let page = try GraphPage(body: fixture("alerts_v2-list.json"))
        #expect(page.items.count == 1)
        let alert = try GraphNormalizer.normalize(page.items[0], endpoint: .alertsV2)
        #expect(alert.kind == .alertV2)
        #expect(alert.id == "da637551227677560813_-961444813")
        #expect(alert.severity == .low && alert.status == "new")
        #expect(alert.tenantId == "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c")
        #expect(alert.serviceSource == "microsoftDefenderForEndpoint" && alert.detectionSource == "antivirus")
        #expect(alert.mitreTechniques == ["T1564.001"])
        #expect(alert.lastUpdatedAt?.iso8601() == "2021-05-02T14:19:01.3266667Z")
        #expect(alert.firstActivityAt?.iso8601(fractionDigits: 3) == "2021-04-26T07:45:50.116Z")
        #expect(alert.evidence.hosts.first?.fqdn == "tempDns")
        #expect(alert.evidence.hosts.first?.ipAddresses == ["1.1.1.1"])
        let file = try #require(alert.evidence.files.first)
        #expect(file.name == "MsSense.exe" && file.path == "C:\\Program Files\\temp")
        #expect(
            file.sha256 == "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec" && file.size == 6_136_392)
        let process = try #require(alert.evidence.processes.first)
        #expect(
            process.processId == 4780 && process.commandLine == "\"MsSense.exe\"" && process.accountName == "SYSTEM")
        #expect(alert.evidence.users.contains { $0.sid == "S-1-5-18" })
        // The original item is kept whole: numbers as written, replacement characters, nulls.
        #expect(alert.raw == page.items[0])
        #expect(alert.raw["evidence"]?.arrayValue?.first?["osBuild"] == .number("22424"))
        #expect(alert.raw["recommendedActions"]?.stringValue?.contains("\u{FFFD}\t") == true)
    }

    @Test func normalizesMicrosoftsIncidentSample() throws {
        let page = try GraphPage(body: fixture("incidents-list.json"))
        let incident = try GraphNormalizer.normalize(page.items[0], endpoint: .incidents)
        #expect(incident.kind == .incident && incident.id == "2972395")
        #expect(incident.title.hasPrefix("Multi-stage incident"))
        #expect(incident.classification == "truePositive" && incident.determination == "multiStagedAttack")
        #expect(incident.assignedTo == "KaiC@contoso.onmicrosoft.com")
        #expect(incident.webURL?.hasPrefix("https://security.microsoft.com/incidents/2972395") == true)
    }

    @Test func normalizesTheLegacyV1Shape() throws {
        let item: JSONValue = try JSONParser.parse(
            #"""
            {"id":"A1","azureTenantId":"t1","title":"Mimikatz","severity":"high","status":"newAlert",
             "createdDateTime":"2026-11-22T10:02:11Z","eventDateTime":"2026-11-22T10:01:55Z",
             "lastModifiedDateTime":"2026-11-22T10:05:00.1234567Z","feedback":"truePositive",
             "vendorInformation":{"vendor":"Microsoft","provider":"Azure Advanced Threat Protection","providerVersion":"3.0"},
             "hostStates":[{"fqdn":"ws.contoso.local","netBiosName":"WS","privateIpAddress":"10.0.0.4"}],
             "userStates":[{"accountName":"bob","domainName":"CONTOSO","logonIp":"198.51.100.7"}],
             "fileStates":[{"name":"m.exe","path":"C:\\t","fileHash":{"hashType":"sha256","hashValue":"abc"}}],
             "processes":[{"processId":42,"commandLine":"m.exe","name":"m.exe","fileHash":{"hashType":"sha1","hashValue":"def"}}],
             "networkConnections":[{"destinationAddress":"203.0.113.9","destinationUrl":"http://evil.example"}],
             "incidentIds":["77"],"sourceMaterials":["https://portal/a1"]}
            """#)
        let a = try GraphNormalizer.normalize(item, endpoint: .alerts)
        #expect(a.kind == .alertV1 && a.vendor == "Microsoft" && a.provider == "Azure Advanced Threat Protection")
        #expect(a.tenantId == "t1" && a.classification == "truePositive" && a.incidentId == "77")
        #expect(a.firstActivityAt?.iso8601(fractionDigits: 0) == "2026-11-22T10:01:55Z")
        #expect(a.lastUpdatedAt?.iso8601() == "2026-11-22T10:05:00.1234567Z")
        #expect(a.evidence.hosts.first?.ipAddresses == ["10.0.0.4"])
        #expect(a.evidence.files.first?.sha256 == "abc")
        #expect(a.evidence.ipAddresses == ["198.51.100.7", "203.0.113.9"])
        #expect(a.evidence.urls == ["http://evil.example"])
        #expect(a.webURL == "https://portal/a1")
    }

    @Test func rejectsItemsWithoutIdAndBodiesThatAreNotPages() throws {
        #expect(throws: GraphNormalizer.ItemError.self) {
            try GraphNormalizer.normalize(["title": "x"], endpoint: .alertsV2)
        }
        #expect(throws: GraphNormalizer.ItemError.self) { try GraphNormalizer.normalize("x", endpoint: .alertsV2) }
        #expect { try GraphPage(body: Array(#"{"value":[{"id":"1"},"#.utf8)) } throws: {
            "\($0)".contains("not valid JSON") && "\($0)".contains("unexpected end of input")
        }
        #expect(throws: GraphPage.FormatError.self) { try GraphPage(body: Array(#"{"error":{"code":"x"}}"#.utf8)) }
    }

    @Test func generatorMakesStableNormalizableAlerts() throws {
        let g = AlertGenerator(seed: 7, start: Timestamp(iso8601: "2026-11-01T00:00:00Z")!)
        #expect(g.alert(5) == g.alert(5))
        #expect(g.alert(5) != g.alert(6))
        let a = try GraphNormalizer.normalize(g.alert(5, revision: 2), endpoint: .alertsV2)
        #expect(
            a.status == "resolved" && !a.evidence.files.isEmpty && !a.evidence.processes.isEmpty
                && a.evidence.urls.count == 1)
        let first = try GraphNormalizer.normalize(g.alert(5), endpoint: .alertsV2)
        #expect(first.id == a.id && first.deduplicationKey != a.deduplicationKey)
    }
}

@Suite struct WarningHeaderTests {
    @Test func parsesTheDocumentedExample() {
        // Security error-responses doc: two items in one header, provider names with spaces.
        let header = #"199 - "{Vendor2}/{Provider 2}/504/10000", 199 - "{Vendor4}/{Provider 4}/403/10""#
        let (items, malformed) = WarningHeader.parse([header])
        #expect(malformed.isEmpty)
        #expect(items.map(\.provider) == ["{Provider 2}", "{Provider 4}"])
        #expect(items.map(\.status) == [504, 403])
        #expect(items.map(\.latencyMilliseconds) == [10000, 10])
        #expect(items.allSatisfy { $0.code == 199 && $0.agent == "-" })
    }

    @Test func parsesRepeatedHeadersRealProvidersAndSingleQuotes() {
        let (items, malformed) = WarningHeader.parse([
            #"199 - "Microsoft/Microsoft Defender ATP/400/248""#,
            #"199 - 'Microsoft/Office 365 Security and Compliance/403/602'"#,
            #"199 - "Microsoft/WDATP/401/228" "Wed, 21 Oct 2015 07:28:00 GMT""#,
        ])
        #expect(malformed.isEmpty)
        #expect(
            items.map { "\($0.vendor)|\($0.provider)|\($0.status)" } == [
                "Microsoft|Microsoft Defender ATP|400", "Microsoft|Office 365 Security and Compliance|403",
                "Microsoft|WDATP|401",
            ])
    }

    @Test func reportsMalformedItemsAndKeepsTheGoodOnes() {
        let (items, malformed) = WarningHeader.parse([
            #"199 - "Microsoft/IPC/504/10000", garbage, 199 - "only/three/parts", 199 - "Microsoft/MCAS/abc/5", 199 - "Microsoft/ASC/500/1""#,
            #"199 - "unterminated"#,
        ])
        #expect(items.map(\.provider) == ["IPC", "ASC"])
        #expect(malformed.count == 4)
        #expect(malformed.contains { $0.problem.contains("not an HTTP status") })
        #expect(malformed.contains { $0.problem.contains("quotes are not closed") })
    }

    @Test func diagnosesByStatus() {
        let forbidden = ProviderDiagnosis.text(status: 403, vendor: "Microsoft", provider: "MCAS", endpoint: .alerts)
        #expect(forbidden.contains("licensed") && forbidden.contains("SecurityEvents.Read.All"))
        #expect(ProviderDiagnosis.isPersistent(status: 401) && !ProviderDiagnosis.isPersistent(status: 504))
        #expect(
            ProviderDiagnosis.text(status: 504, vendor: "M", provider: "P", endpoint: .alerts).contains("timed out"))
        #expect(ProviderDiagnosis.text(status: 429, vendor: "M", provider: "P", endpoint: nil).contains("throttling"))
        #expect(
            ProviderDiagnosis.text(status: 500, vendor: "M", provider: "P", endpoint: nil).contains("internal error"))
    }
}

@Suite struct GraphFidelityTests {
    @Test func aMergedIncidentNamesTheIncidentItNowBelongsTo() throws {
        let item = try JSONParser.parse(
            ##"{"@odata.type": "#microsoft.graph.security.incident", "id": "29", "displayName": "x", "status": "redirected", "redirectIncidentId": "31"}"##
        )
        let incident = try GraphNormalizer.normalize(item, endpoint: .incidents)
        #expect(incident.id == "29" && incident.incidentId == "31" && incident.status == "redirected")
        let plain = try GraphNormalizer.normalize(
            JSONParser.parse(#"{"id": "30", "redirectIncidentId": null}"#), endpoint: .incidents)
        #expect(plain.incidentId == "30")
    }

    @Test func evolvableEnumsAreAskedForOnAlertsV2AndIncidentsOnly() {
        #expect(
            GraphClientTesting.prefer("https://g/v1.0/security/alerts_v2?$top=1").contains(
                "include-unknown-enum-members"))
        #expect(GraphClientTesting.prefer("https://g/v1.0/security/incidents").contains("include-unknown-enum-members"))
        #expect(
            !GraphClientTesting.prefer("https://g/v1.0/security/alerts?$filter=x").contains(
                "include-unknown-enum-members"))
    }
}
