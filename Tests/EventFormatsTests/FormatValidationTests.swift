import CollectorCore
import CollectorTesting
import EventFormats
import Testing

/// Every format checked by something we did not write: OCSF by the published schema (the
/// ocsf-json-schema package with jsonschema), ECS by Elastic's field definitions (reduced
/// fixture), CEF by cefp from PyPI and by a strict parser written from the guide.
@Suite struct FormatValidationTests {
    @Test(arguments: OCSFFormat.Version.allCases)
    func ocsfEventsPassTheOCSFSchema(version: OCSFFormat.Version) async throws {
        // 500 alerts for the default version, 150 for the others: the encoding runs on the test
        // pool, which other suites' in-process servers need (the end-to-end test checks 2,000 per
        // format in a collector process).
        let events = try FormatSamples.events(alerts: version == .v1Dot3 ? 500 : 150)
        let encoder = OCSFEncoder(format: OCSFFormat(version: version, includeRaw: true))
        let lines = FormatSamples.lines(events, encoder)
        let result = try await FormatSamples.validate("validate_ocsf.py", [version.rawValue], lines: lines)
        #expect(
            result.status == 0, "OCSF \(version.rawValue): \(result.stdout.prefix(3000)) \(result.stderr.prefix(2000))")
        #expect(result.stdout.hasSuffix("ok \(events.count)\n"), "\(result.stdout.suffix(200))")
        // What the schema does not check: type_uid = class × 100 + activity, captions match ids.
        for event in events.prefix(300) {
            let d = encoder.document(for: event)
            let klass = d["class_uid"]?.intValue ?? -1
            let activity = d["activity_id"]?.intValue ?? -1
            let type = d["type_uid"]?.intValue
            #expect(type == (klass == 0 ? 99 : klass * 100 + activity))
            let captions = [1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 0: "Unknown"]
            #expect(d["severity"]?.stringValue == captions[d["severity_id"]?.intValue ?? -1])
        }
    }

    @Test func ecsDocumentsUseOnlyECSFieldsWithTheirTypes() async throws {
        let events = try FormatSamples.events(alerts: 500)
        let encoder = ECSEncoder()
        let lines = FormatSamples.lines(events, encoder)
        let fixture = FormatSamples.fixtures + "/ecs/ecs-8.17.0-fields.json"
        // Our own fields under microsoft.graph are ours; everything else must be ECS 8.17.
        let result = try await FormatSamples.validate(
            "ecs_check.py", [fixture, "{file}", "microsoft.graph"], lines: lines)
        #expect(result.status == 0, "\(result.stdout.prefix(3000)) \(result.stderr.prefix(2000))")
        let custom = try await FormatSamples.validate(
            "ecs_check.py", [fixture, "{file}"], lines: lines.prefix(1).map { $0 })
        #expect(custom.status != 0, "the checker sees the namespace when it is not declared: \(custom.stdout)")
    }
}
