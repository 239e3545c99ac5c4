import CollectorCore
import CollectorSinks
import CollectorTesting
import EventFormats
import Foundation
import Testing

let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path
let fixedTime = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_123_000_000)  // 2025-11-23T12:13:20.123Z

func syslogConfig(_ yaml: String) throws -> SyslogSink.Configuration {
    try CollectorTestingConfig.decode(SyslogSink.Configuration.self, yaml: yaml)
}

/// Compares with a golden file in Tests/CollectorSinksTests/Golden; `UPDATE_GOLDEN=1` rewrites it.
func expectGolden(_ name: String, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
    let path = "\(goldenDirectory)/\(name)"
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(atPath: goldenDirectory, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
    let golden = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(
        Array(golden) == bytes, "\(name) differs:\n\(String(decoding: bytes, as: UTF8.self))",
        sourceLocation: sourceLocation)
}

/// A header field as LEEF carries it: control characters become spaces.
func headerText(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
}

/// Whole syslog messages (header, framing, LEEF) against golden files, and the sink's configuration.
@Suite struct SyslogMessageTests {
    @Test func goldenMessagesForEachHeaderAndFormat() throws {
        let cases: [(String, String, Event)] = [
            (
                "leef2-rfc5424-minimal.txt", "targets: [siem:514]\nhostname: collector01.corp.example",
                SampleEvents.alert(3)
            ),
            ("leef2-tricky.txt", "targets: [siem:514]\nhostname: collector01", TrickyEvents.alert(1)),
            (
                "leef1-rfc3164.txt",
                "targets: [siem:514]\nheader: rfc3164\nhostname: collector01\nleef: {version: \"1.0\"}",
                TrickyEvents.alert(2)
            ),
            (
                "leef2-rfc5424-devtimeformat.txt",
                """
                targets: [siem:514]
                header: rfc5424
                hostname: collector01
                facility: local4
                leef: {delimiter: x09, event_id: "{category}-{severity}", dev_time_format: "MMM dd yyyy HH:mm:ss.SSS z", vendor: Contoso, fields: {description: null, usr_name: userName}, raw_fields: {dst: /evidence/0/remoteIpAddress}}
                """, TrickyEvents.alert(3)
            ),
            (
                "leef2-provider-warning.txt", "targets: [siem:514]\nhostname: collector01",
                SampleEvents.providerWarning(status: 403)
            ),
            (
                "json-rfc5424.txt", "targets: [siem:514]\nformat: json\nhostname: collector01\napp_name: gc",
                SampleEvents.alert(1)
            ),
        ]
        for (name, yaml, event) in cases {
            var config = try syslogConfig(yaml)
            config.header.processID = "4242"
            let sink = SyslogSink(configuration: config, logger: quiet)
            var (bytes, truncated) = try #require(sink.message(for: event, at: fixedTime))
            #expect(!truncated)
            bytes.append(0x0A)
            try expectGolden(name, bytes)
        }
    }

    @Test func theSyslogSinkRefusesABatchWhoseEventCannotFitBeforeSendingAnything() async throws {
        let config = try syslogConfig("targets: [\"127.0.0.1:9\"]\ntransport: tcp\nmax_message_size: 480")
        let sink = SyslogSink(configuration: config, logger: quiet)
        let longID = Event.alert(SecurityAlert(kind: .alertV2, id: String(repeating: "x", count: 600), title: "t"))
        #expect(sink.message(for: longID) == nil)
        do {
            try await sink.write([SampleEvents.alert(1), longID])
            Issue.record("expected a permanent rejection")
        } catch let error as SinkError {
            #expect(!error.isRetryable)
            #expect(error.description.contains("max_message_size (480)"))
        }
    }

    @Test func configurationErrorsSayWhatIsWrong() throws {
        func error(_ yaml: String) -> String {
            do {
                _ = try syslogConfig(yaml)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("transport: tcp").contains("targets"))
        #expect(error("targets: [\"siem:99999\"]").contains("not host:port"))
        #expect(error("targets: [siem]\ntransport: udp\nframing: lf").contains("no framing"))
        #expect(error("targets: [siem]\nfacility: lokal0").contains("did you mean 'local0'"))
        #expect(error("targets: [siem]\nleef: {delimiter: \"=\"}").contains("cannot separate attributes"))
        #expect(error("targets: [siem]\nleef: {version: \"1.0\", delimiter: \"^\"}").contains("always uses a tab"))
        #expect(error("targets: [siem]\nleef: {fields: {usr_nme: x}}").contains("did you mean 'usr_name'"))
        #expect(error("targets: [siem]\nleef: {fields: {title: cat}}").contains("already used"))
        #expect(error("targets: [siem]\nleef: {fields: {title: \"bad key\"}}").contains("letters, digits"))
        #expect(error("targets: [siem]\nleef: {event_id: \"{titel}\"}").contains("did you mean {title}"))
        #expect(error("targets: [siem]\nleef: {severity_map: {high: 11}}").contains("1–10"))
        #expect(error("targets: [siem]\nleef: {dev_time_format: \"yyyy-MM-dd'T\"}").contains("unclosed quote"))
        #expect(error("targets: [siem]\nhostname: \"two words\"").contains("hostname"))
        #expect(error("targets: [siem]\ntls: {verify: false}").contains("transport: tls"))
        #expect(error("targets: [siem]\ntransport: tls\ntls: {client_certificate: c.pem}").contains("go together"))
        let tls = try syslogConfig("transport: tls\ntargets: [\"qradar.example.com\", \"[::1]:7514\"]")
        #expect(tls.targets == [.init(host: "qradar.example.com", port: 6514), .init(host: "::1", port: 7514)])
        #expect(tls.framing == .octetCounting && tls.maxMessageSize == 8192)
        let udp = try syslogConfig("transport: udp\ntargets: [siem]")
        #expect(udp.maxMessageSize == 2048 && udp.targets[0].port == 514)
    }

}
