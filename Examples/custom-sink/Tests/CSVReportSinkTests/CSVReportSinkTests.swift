import CSVReportSink
import CollectorCore
import CollectorTesting
import Foundation
import Testing

/// Turns report rows back into events that carry what the report keeps (type and id), so the
/// conformance suite can compare them with what was written.
func events(in path: String) throws -> [Event] {
    guard FileManager.default.fileExists(atPath: path) else { return [] }
    return try CSVReportSink.read(path).map { row in
        let id = row["id"] ?? ""
        switch row["event_type"] {
        case "provider_warning":
            let parts = id.split(separator: "/").map(String.init)
            return .providerWarning(
                ProviderWarning(
                    vendor: parts[0], provider: parts[1], httpStatus: Int(parts[2]) ?? 0, latencyMilliseconds: nil,
                    query: "", observedAt: .now(), diagnosis: row["title"] ?? "", isPersistent: false, rawItem: ""))
        case "collector_health":
            let parts = id.split(separator: "/").map(String.init)
            return .health(
                CollectorHealth(component: parts[0], level: .info, code: parts[1], message: row["title"] ?? ""))
        default:
            return .alert(
                SecurityAlert(
                    kind: .alertV2, id: id, title: row["title"] ?? "",
                    severity: Severity(rawValue: row["severity"] ?? "")))
        }
    }
}

let sameReportRow: @Sendable (Event, Event) -> Bool = { a, b in
    a.eventType == b.eventType && CSVReportSink.id(of: a) == CSVReportSink.id(of: b)
}

@Suite struct CSVReportSinkTests {
    @Test func keepsTheSinkContract() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = CSVReportSink.Configuration(path: dir.file("report.csv"), minSeverity: .informational)
        try await SinkConformance.check(
            makeSink: { CSVReportSink(configuration: config) },
            readBack: { try events(in: dir.file("report.csv")) },
            comparing: sameReportRow)
    }

    @Test func cancelledWritesLeaveWholeBatches() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = CSVReportSink.Configuration(path: dir.file("report.csv"), minSeverity: .informational)
        try await SinkConformance.checkCancellation(
            makeSink: { CSVReportSink(configuration: config) },
            readBack: { try events(in: dir.file("report.csv")) },
            comparing: sameReportRow)
    }

    @Test func anUnwritableReportIsARetryableFailure() async throws {
        try await SinkConformance.checkFailureReporting {
            CSVReportSink(configuration: CSVReportSink.Configuration(path: "/proc/no-such-dir/report.csv"))
        }
    }

    @Test func keepsOnlyAlertsAtOrAboveTheMinimumAndQuotesFields() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let sink = CSVReportSink(
            configuration: try CollectorTestingConfig.decode(
                CSVReportSink.Configuration.self,
                yaml: """
                    path: \(dir.file("r.csv"))
                    columns: [event_type, id, severity, title]
                    min_severity: high
                    include_health: false
                    """))
        var tricky = SampleEvents.alert(7)
        if case .alert(var a) = tricky {
            a.title = "Quote \" and, comma\nnew line"
            tricky = .alert(a)
        }
        try await sink.write(SampleEvents.alerts(0..<8) + [tricky, SampleEvents.providerWarning(status: 403)])
        try await sink.close()
        let rows = try CSVReportSink.read(dir.file("r.csv"))
        #expect(rows.map { $0["id"]! } == ["alert-3", "alert-7", "alert-7", "Microsoft/Microsoft Defender ATP/403"])
        #expect(rows[2]["title"] == "Quote \" and, comma\nnew line")
    }

    @Test func configurationErrorsNameTheProblem() {
        #expect(throws: (any Error).self) {
            try CollectorTestingConfig.decode(
                CSVReportSink.Configuration.self, yaml: "path: x.csv\ncolumns: [id, colour]")
        }
        #expect(throws: (any Error).self) {
            try CollectorTestingConfig.decode(
                CSVReportSink.Configuration.self, yaml: "path: x.csv\nmin_severity: urgent")
        }
    }
}
