import CollectorCore
import CollectorTesting
import EventFormats
import Foundation
import Testing

/// The exact bytes of each format for fixed events, pinned in Golden/ (reviewed by eye when
/// made; `GRAPH_COLLECTOR_UPDATE_GOLDEN=1` rewrites them after an intended change).
@Suite struct GoldenFormatTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden").path

    static let events: [(String, Event)] = [
        ("alert", SampleEvents.alert(2)), ("tricky-alert", TrickyEvents.alert(5)),
        ("provider-warning", SampleEvents.providerWarning(status: 504)),
    ]

    static let encoders: [(String, any EventEncoding)] = [
        ("cef", CEFEncoder()), ("ocsf", OCSFEncoder()), ("ocsf-1.4", OCSFEncoder(format: OCSFFormat(version: .v1Dot4))),
        ("ecs", ECSEncoder()),
    ]

    @Test(arguments: encoders.map(\.0))
    func theBytesMatchTheGoldenFile(format: String) throws {
        let encoder = Self.encoders.first { $0.0 == format }!.1
        var text: [UInt8] = []
        for (_, event) in Self.events {
            encoder.encode(event, into: &text)
            text.append(0x0A)
        }
        let path = "\(Self.directory)/\(format).txt"
        if ProcessInfo.processInfo.environment["GRAPH_COLLECTOR_UPDATE_GOLDEN"] == "1" {
            FileManager.default.createFile(atPath: path, contents: Data(text))
        }
        let golden = try #require(FileManager.default.contents(atPath: path), "no golden file \(path)")
        #expect(Array(golden) == text, "\(format) differs from \(path):\n\(String(decoding: text, as: UTF8.self))")
    }
}
