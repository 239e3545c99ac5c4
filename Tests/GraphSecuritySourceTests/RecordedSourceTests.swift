import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import Logging
import Testing

@Suite struct RecordedSourceTests {
    @Test func a206AnswerDeliversItsAlertsAndOneWarningPerFailingProvider() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "rec/001.json",
            #"""
            {"endpoint":"alerts","request":"/v1.0/security/alerts?$top=10","status":206,
             "headers":{"Warning":["199 - \"Microsoft/Microsoft Defender ATP/401/228\", 199 - \"Microsoft/IPC/504/10000\"", "199 - broken"]},
             "body":{"value":[{"id":"a1","title":"t","vendorInformation":{"vendor":"Microsoft","provider":"MCAS"}},{"title":"no id"}]}}
            """#)
        let context = SourceContext(
            name: "rec", logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
            stateDirectory: dir.file("state"), configurationDirectory: dir.path)
        let config = try ConfigLoaderShim.recorded(directory: "rec")
        let source = try await RecordedSource.Plugin.makeSource(configuration: config, context: context)
        let publisher = RecordingPublisher()
        try await source.run(publisher: publisher)
        let events = await publisher.events
        let warnings = events.compactMap(\.providerWarning)
        #expect(warnings.map(\.provider) == ["Microsoft Defender ATP", "IPC"])
        #expect(warnings.first?.isPersistent == true && warnings.first?.query == "/v1.0/security/alerts?$top=10")
        #expect(events.compactMap { $0.alert?.id } == ["a1"])
        let health = events.compactMap { if case .health(let h) = $0 { return h.code } else { return nil } }
        #expect(health.sorted() == ["item_malformed", "warning_header_malformed"])

        // replay: once checkpoints what was delivered; a second run publishes nothing.
        let again = RecordingPublisher()
        try await source.run(publisher: again)
        #expect(await again.events.isEmpty)
    }
}

enum ConfigLoaderShim {
    static func recorded(directory: String) throws -> RecordedSource.Configuration {
        let json = try JSONParser.parse(#"{"directory":"\#(directory)"}"#)
        return try JSONDecoderShim.decode(RecordedSource.Configuration.self, json)
    }
}

enum JSONDecoderShim {
    static func decode<T: Decodable>(_ type: T.Type, _ json: JSONValue) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(JSONWriter.string(json).utf8))
    }
}
