import CollectorConfig
import CollectorCore
import CollectorRuntime
import CollectorTesting
import CurlTransport
import Foundation
import GraphSecuritySource
import Testing

/// Regressions for what fuzzing and hostile files found (issue: no input can crash the
/// collector). Each uses the exact input that killed the process before.
@Suite struct HostileInputTests {
    @Test func retryAfterHeadersThatTrappedFoundationAreRefused() {
        for value in [
            "s\u{0656}", "s\u{301}", "M\u{656}", "Mon, \u{301}", String(decoding: [0x73, 0xD9, 0x96], as: UTF8.self),
        ] {
            #expect(HTTPResponse.parseRetryAfter(value) == nil, "\(value.unicodeScalars.map { $0.value })")
        }
    }

    @Test func retryAfterReadsEveryRFC9110FormAndCapsTheDelay() throws {
        let now = try #require(Timestamp(iso8601: "1994-11-06T08:49:00Z")).nanosecondsSinceEpoch / 1_000_000_000
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse("  7 ", now: now) == .seconds(7))
        #expect(RetryAfter.parse("99999999999999999999999999", now: now) == RetryAfter.maximum)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(37))
        #expect(RetryAfter.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now) == .seconds(37))
        #expect(RetryAfter.parse("Sun Nov  6 08:49:37 1994", now: now) == .seconds(37))
        #expect(RetryAfter.parse("Sat, 05 Nov 1994 08:49:37 GMT", now: now) == .zero)  // in the past
        #expect(RetryAfter.parse("Fri, 01 Jan 9999 00:00:00 GMT", now: now) == RetryAfter.maximum)
        for bad in [
            "", "-1", "1.5", "soon", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT trailing", "Sun Nov 6 08:49:37 1994",
        ] {
            #expect(RetryAfter.parse(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test func timesOutsideTheRepresentableRangeAreUnreadableNotFatal() throws {
        for text in [
            "0001-01-01T00:00:00Z", "1677-09-21T00:12:43Z", "2262-04-12T00:00:00Z", "9999-12-31T23:59:59.9999999Z",
            "0000-01-01T00:00:00+23:59",
        ] {
            #expect(Timestamp(iso8601: text) == nil, "\(text)")
        }
        #expect(Timestamp(iso8601: "1678-01-01T00:00:00Z") != nil)
        #expect(Timestamp(iso8601: "2262-04-11T00:00:00Z") != nil)
        let late = try #require(Timestamp(iso8601: "2262-04-11T00:00:00Z"))
        #expect(late.adding(seconds: 1e30) == Timestamp.representableRange.upperBound)
        #expect(late.adding(seconds: -.infinity) == Timestamp.representableRange.lowerBound)
        #expect(late.adding(seconds: .nan) == Timestamp.representableRange.lowerBound)
    }

    @Test func anAlertWithAnUnsetResolvedTimeIsNormalizedWithTheFieldLeftOut() throws {
        let item = try JSONParser.parse(
            """
            {"id": "da1", "title": "t", "lastUpdateDateTime": "2026-11-01T10:00:00Z",
             "resolvedDateTime": "0001-01-01T00:00:00Z", "createdDateTime": "not a time"}
            """)
        let alert = try GraphNormalizer.normalize(item, endpoint: .alertsV2)
        #expect(alert.resolvedAt == nil && alert.createdAt == nil && alert.lastUpdatedAt != nil)
        #expect(alert.raw["resolvedDateTime"]?.stringValue == "0001-01-01T00:00:00Z")
        let unreadable = GraphNormalizer.unreadableTimes(in: item, endpoint: .alertsV2).map(\.field)
        #expect(unreadable == ["createdDateTime", "resolvedDateTime"])
    }

    @Test func configurationNumbersOutOfRangeAreLocatedErrors() throws {
        let cases: [(String, String)] = [
            ("pipeline: {drain_timeout: 1e300}", "main.yaml:1:"),
            ("pipeline: {drain_timeout: 99999999999999999999d}", "main.yaml:1:"),
            ("pipeline: {drain_timeout: .nan}", "main.yaml:1:"),
            (
                "sinks:\n  - type: json-file\n    directory: out\n    queue_max_size: 99999999999999999999gb",
                "main.yaml:4:"
            ),
            (
                "sinks:\n  - type: json-file\n    directory: out\n    queue_max_size: 99999999999999999999",
                "main.yaml:4:"
            ),
        ]
        for (yaml, location) in cases {
            let errors = try problems(yaml)
            #expect(errors.count == 1, "\(yaml): \(errors)")
            #expect(errors.first?.hasPrefix(location) == true, "\(yaml): \(errors)")
            #expect(["out of range", "not a duration"].contains { errors.first?.contains($0) == true }, "\(errors)")
        }
    }

    @Test func filesThatAreNotConfigurationAreRefusedWithTheirCauseAndNeverEchoed() throws {
        setenv("GRAPH_COLLECTOR_TEST_SECRET", "hunter2-do-not-print", 1)
        defer { unsetenv("GRAPH_COLLECTOR_TEST_SECRET") }
        let pagemap = try problems("include: [\"/proc/self/pagemap\"]")
        #expect(pagemap.count == 1 && pagemap[0].contains("larger than 1MiB"), "\(pagemap)")
        let environ = try problems("include: [\"/proc/self/environ\"]")
        #expect(environ.count == 1, "\(environ)")
        #expect(!environ.joined().contains("hunter2"), "\(environ)")
        let device = try problems("include: [\"/dev/zero\"]")
        #expect(device.count == 1 && device[0].contains("character device, not a regular file"), "\(device)")
        let directory = try problems("include: [\"/tmp\"]")
        #expect(directory.count == 1 && directory[0].contains("a directory"), "\(directory)")
        let glob = try problems("include: [\"/proc/self/*map*\"]")
        #expect(!glob.isEmpty && glob.allSatisfy { !$0.contains("permissions?") }, "\(glob)")
        let secret = try problems(
            """
            sources:
              - type: graph-security
                tenants:
                  - {tenant_id: t, client_id: c, client_secret_file: /dev/urandom}
            sinks: [{type: json-file, directory: out}]
            """)
        #expect(secret.count == 1 && secret[0].contains("'/dev/urandom' is a character device"), "\(secret)")
    }

    @Test func millionsOfUnknownKeysAreCountedNotListed() throws {
        var yaml = "logging: {level: info}\n"
        for i in 0..<20_000 { yaml += "unknown_\(i): 1\n" }
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = try dir.write("big.yaml", yaml)
        do {
            _ = try ConfigLoader.load(file: path, registry: .builtins(), environment: [:])
            Issue.record("expected errors")
        } catch {
            #expect(error.errors.count == 20_000)
            let lines = error.description.split(separator: "\n")
            #expect(lines.count == ConfigErrors.listed + 2)
            #expect(lines.last?.contains("19950 more") == true, "\(lines.last ?? "")")
        }
    }

    /// `"resolvedDateTime": "0001-01-01T00:00:00Z"` made `run` exit 132 (SIGILL); now the alert
    /// is delivered with the original text in raw.
    @Test func runDeliversAnAlertWhoseTimeIsOutOfRange() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "recorded/001.json",
            """
            {"endpoint": "alerts_v2", "request": "/v1.0/security/alerts_v2", "status": 200, "headers": {},
             "body": {"value": [{"@odata.type": "#microsoft.graph.security.alert", "id": "unset-resolved",
               "title": "t", "severity": "high", "lastUpdateDateTime": "2026-11-01T10:00:00Z",
               "resolvedDateTime": "0001-01-01T00:00:00Z", "firstActivityDateTime": "9999-12-31T23:59:59Z"}]}}
            """)
        let config = try dir.write(
            "c.yaml",
            """
            sources: [{type: graph-recorded, directory: recorded}]
            sinks: [{type: json-file, directory: out, path: "{event_type}.ndjson"}]
            """)
        let result = try await CollectorProcess.run(["run", "--config", config])
        #expect(result.status == 0, "\(result.stderr)")
        let line = try String(contentsOfFile: dir.file("out/alert.ndjson"), encoding: .utf8)
        let alert = try JSONParser.parse(line.trimmingCharacters(in: .newlines))
        #expect(alert["id"]?.stringValue == "unset-resolved")
        #expect(alert["raw"]?["resolvedDateTime"]?.stringValue == "0001-01-01T00:00:00Z")
    }
}
