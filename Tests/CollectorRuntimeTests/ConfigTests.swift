import CollectorConfig
import CollectorCore
import CollectorRuntime
import CollectorSinks
import CollectorTesting
import Foundation
import Testing

/// Loads YAML written to a temporary file; returns the errors' descriptions (empty when valid).
func problems(_ yaml: String, files extra: [String: String] = [:], environment: [String: String] = [:]) throws
    -> [String]
{
    let dir = TemporaryDirectory()
    defer { dir.remove() }
    for (name, text) in extra { try dir.write(name, text) }
    let path = try dir.write("main.yaml", yaml)
    do {
        _ = try ConfigLoader.load(file: path, registry: .builtins(), environment: environment)
        return []
    } catch {
        return error.errors.map { $0.description.replacingOccurrences(of: dir.path + "/", with: "") }
    }
}

@Suite struct ConfigErrorTests {
    @Test func unknownKeyNamesFileLineAndSuggestion() throws {
        let errors = try problems(
            """
            sinks:
              - type: json-file
                directory: out
              - type: json-file
                name: second
                directory: out2
                pth: x.ndjson
            """)
        #expect(errors == ["main.yaml:7:5: sinks[1] (json-file): unknown key 'pth'; did you mean 'path'?"])
    }

    @Test func badYAMLIsLocated() throws {
        let errors = try problems("sinks:\n  - type: json-file\n    directory: [unclosed\n")
        #expect(errors.count == 1)
        #expect(errors[0].hasPrefix("main.yaml:4:1: invalid YAML") || errors[0].hasPrefix("main.yaml:3:"), "\(errors)")
    }

    @Test func wrongTypeSaysWhatWasExpected() throws {
        let errors = try problems(
            """
            sinks:
              - type: json-file
                directory: out
                max_rotated_files: many
                batch:
                  max_events: 0
            """)
        #expect(errors.count == 1)
        #expect(
            errors[0] == "main.yaml:6:19: sinks[0] (json-file): sinks[0].batch.max_events: must be at least 1",
            "\(errors)")
        let second = try problems("sinks:\n  - type: json-file\n    directory: out\n    max_rotated_files: many\n")
        #expect(
            second == [
                "main.yaml:4:24: sinks[0] (json-file): sinks[0].max_rotated_files: expected a whole number, found "
                    + "'many'"
            ])
    }

    @Test func missingRequiredKeyAndTyposOfIt() throws {
        let errors = try problems("sinks:\n  - type: json-file\n    directry: out\n")
        #expect(
            errors.contains("main.yaml:2:5: sinks[0] (json-file): missing required key 'directory' in sinks[0]"),
            "\(errors)")
        #expect(
            errors.contains("main.yaml:3:5: sinks[0] (json-file): unknown key 'directry'; did you mean 'directory'?"),
            "\(errors)")
    }

    @Test func unknownSinkTypeSuggestsTheNearest() throws {
        let errors = try problems("sinks:\n  - type: json-files\n    directory: out\n")
        #expect(errors.count == 1)
        #expect(
            errors.first?.hasPrefix(
                "main.yaml:2:11: sinks[0]: unknown sink type 'json-files'; did you mean 'json-file'? (known: ") == true,
            "\(errors)")
    }

    @Test func pathEscapingTheBaseDirectoryIsRejected() throws {
        let errors = try problems("sinks:\n  - type: json-file\n    directory: out\n    path: ../../etc/cron.d/x\n")
        #expect(errors.count == 1)
        #expect(
            errors[0].hasPrefix(
                "main.yaml:4:11: sinks[0] (json-file): sinks[0].path: the path template '../../etc/cron.d/x' "
                    + "contains '..'"
            ), "\(errors)")
    }

    @Test func enumValuesAreListed() throws {
        let errors = try problems(
            "logging:\n  level: loud\nsinks:\n  - type: json-file\n    directory: out\n    fsync: sometimes\n")
        #expect(errors.contains { $0.hasPrefix("main.yaml:2:10: logging.level: expected one of trace, debug, info") })
        #expect(
            errors.contains { $0.contains("sinks[0].fsync: expected one of never, batch, interval, found 'sometimes'") }
        )
    }

    @Test func everyProblemIsListedAtOnce() throws {
        let errors = try problems(
            """
            sate_directory: x
            sources:
              - type: synthetic
                count: -1
            sinks:
              - type: nope
              - type: json-file
                name: a
                directory: d
              - type: json-file
                name: a
                directory: d
            """)
        #expect(errors.count == 4, "\(errors)")
        #expect(errors.contains { $0.contains("unknown key 'sate_directory'; did you mean 'state_directory'?") })
        #expect(errors.contains { $0.contains("count: must not be negative") })
        #expect(errors.contains { $0.contains("unknown sink type 'nope'") })
        #expect(errors.contains { $0.contains("already named 'a'") })
    }

    @Test func environmentSubstitutionAndSecretFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("secret.txt", "s3cr3t\n")
        let path = try dir.write(
            "main.yaml",
            """
            state_directory: ${STATE:-fallback-state}
            sources:
              - type: synthetic
                tenant_id_file: secret.txt
            sinks:
              - type: json-file
                directory: ${OUT_DIR}/x
                path: "cost-$$-{event_type}.ndjson"
            """)
        let loaded = try ConfigLoader.load(file: path, registry: .builtins(), environment: ["OUT_DIR": "/tmp/o"])
        #expect(loaded.settings.stateDirectory == "fallback-state")
        #expect(loaded.sources.count == 1 && loaded.sinks.count == 1)
        let unset = try problems("sinks:\n  - type: json-file\n    directory: ${NOT_SET}\n")
        #expect(
            unset == [
                "main.yaml:3:16: sinks[0] (json-file): sinks[0].directory: environment variable NOT_SET is not set "
                    + "(write ${NOT_SET:-default} to give a default)"
            ])
        let decoded = try CollectorTestingConfig.decode(
            JSONFileSink.Configuration.self, yaml: "directory: ${D}\npath: \"a-$$.ndjson\"", environment: ["D": "/x"])
        #expect(decoded.directory == "/x" && decoded.path.description == "a-$.ndjson")
    }

    @Test func includesByGlobAndReportsTheirFile() throws {
        let errors = try problems(
            "include: [plugins/*.yaml]\nsources:\n  - type: synthetic\n",
            files: [
                "plugins/a.yaml": "sinks:\n  - type: json-file\n    name: a\n    directory: out\n",
                "plugins/b.yaml": "sinks:\n  - type: json-file\n    name: b\n    directori: out\n",
            ])
        #expect(
            errors.contains(
                "plugins/b.yaml:4:5: sinks[0] (json-file): unknown key 'directori'; did you mean 'directory'?"),
            "\(errors)")
        let missing = try problems("include: [nothere.yaml]\n")
        #expect(missing.count == 1 && missing[0].contains("included file 'nothere.yaml' does not exist"))
    }

    @Test func secretFilesAreTakenLiterally() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("pw.txt", "pa$$w${NOT_SET}\n")
        let s = try CollectorTestingConfig.decode(SecretHolder.self, yaml: "password_file: \(dir.file("pw.txt"))")
        #expect(s.password.reveal() == "pa$$w${NOT_SET}")
        let empty = try problems("sinks:\n  - type: json-file\n    directory:\n")
        #expect(
            empty == ["main.yaml:3:15: sinks[0] (json-file): sinks[0].directory: a value is required here"], "\(empty)")
    }

    @Test func secretsNeverPrint() throws {
        let s = try CollectorTestingConfig.decode(SecretHolder.self, yaml: "password: hunter2")
        #expect("\(s.password)" == "<redacted>" && "\(s)".contains("hunter2") == false)
        #expect(s.password.reveal() == "hunter2")
    }
}

struct SecretHolder: Decodable {
    var password: Secret
}

/// `format:` and its blocks, as an operator writes them.
@Suite struct FormatConfigurationTests {
    @Test func formatMistakesAreLocatedAndExplained() throws {
        let cases: [(String, String)] = [
            ("{type: json-file, directory: o, format: cfe}", "unknown format 'cfe'; did you mean 'cef'?"),
            ("{type: json-file, directory: o, cef: {vendor: x}}", "'cef' settings apply to format: cef"),
            ("{type: syslog, target: 127.0.0.1, format: cef, cef: {severity_map: {high: 12}}}", "12 is not between 0"),
            ("{type: webhook, url: 'http://h/x', format: leef, body: json-array}", "use body: ndjson"),
            ("{type: exec, command: [cat], format: ocsf, ocsf: {version: '1.0.0'}}", "OCSF version '1.0.0' is not"),
            ("{type: gzip-archive, directory: o, format: ecs, ecs: {namespace: 'a..b'}}", "not a dotted field name"),
            ("{type: json-file, directory: o, format: cef, cef: {fields: {tenant: x}}}", "did you mean 'tenantId'?"),
        ]
        for (sink, message) in cases {
            let found = try problems("sources: [{type: synthetic}]\nsinks: [\(sink)]\n")
            #expect(found.contains { $0.contains(message) }, "\(sink): \(found)")
        }
        #expect(
            try problems(
                "sources: [{type: synthetic}]\nsinks: [{type: webhook, url: 'http://h/x', format: json-array}]\n"
            ).isEmpty)
        #expect(
            try problems(
                "sources: [{type: synthetic}]\nsinks: [{type: json-file, directory: o, format: ocsf, ocsf: {version: '1.4', include_raw: true, fields: {finding_info.desc: null}, raw_fields: {unmapped.os: /osBuild}}}]\n"
            ).isEmpty)
    }
}
