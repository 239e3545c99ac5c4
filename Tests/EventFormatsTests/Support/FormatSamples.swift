import CollectorCore
import CollectorTesting
import EventFormats
import Foundation
import GraphSecuritySource

/// Events for the format tests: generated alerts_v2 alerts (with evidence of every kind), alerts
/// full of characters formats must escape, a provider warning and a health event.
enum FormatSamples {
    static func events(alerts count: Int) throws -> [Event] {
        let generator = AlertGenerator(
            seed: 7, tenantId: "b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c",
            start: Timestamp(nanosecondsSinceEpoch: 1_750_000_000_000_000_000))
        var events: [Event] = []
        for n in 0..<count {
            events.append(.alert(try GraphNormalizer.normalize(generator.alert(n), endpoint: .alertsV2)))
        }
        events += (0..<20).map { TrickyEvents.alert($0, descriptionLength: $0 * 50) }
        events.append(SampleEvents.providerWarning(status: 504))
        events.append(SampleEvents.providerWarning(status: 403))
        events.append(
            .health(
                CollectorHealth(
                    component: "source:graph", level: .warning, code: "provider_give_up",
                    message: "IPC keeps failing", details: ["provider": "IPC", "window.start": "2026-11-01"],
                    observedAt: Timestamp(nanosecondsSinceEpoch: 1_750_000_000_000_000_000))))
        return events
    }

    /// Each event's payload in `encoder`'s format.
    static func lines(_ events: [Event], _ encoder: any EventEncoding) -> [[UInt8]] {
        events.map { event in
            var out: [UInt8] = []
            encoder.encode(event, into: &out)
            return out
        }
    }

    /// Runs a validator from Validators/ on `lines` (one payload per line) in python3; the file's
    /// path replaces the argument `{file}`, or comes last.
    static func validate(_ script: String, _ arguments: [String], lines: [[UInt8]]) async throws -> ProcessResult {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var data: [UInt8] = []
        for line in lines {
            data += line
            data.append(0x0A)
        }
        let file = dir.file("events.txt")
        FileManager.default.createFile(atPath: file, contents: Data(data))
        let validators = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Validators").path
        return try await CollectorProcess.runTool(
            "/usr/bin/env",
            ["python3", "\(validators)/\(script)"]
                + (arguments.contains("{file}") ? arguments.map { $0 == "{file}" ? file : $0 } : arguments + [file]))
    }

    static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures").path
    }
}
