import CollectorCore
import CollectorTesting
import Testing

@testable import CollectorRuntime

/// What a SIGHUP would change, computed from the two configurations alone.
@Suite struct ReloadPlanTests {
    func load(_ yaml: String, in dir: TemporaryDirectory) throws -> LoadedConfiguration {
        try ConfigLoader.load(file: try dir.write("c.yaml", yaml), registry: .builtins(), environment: [:])
    }

    @Test func entriesAreComparedByNameAsWrittenAndTopLevelSettingsWaitForARestart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let running = try load(
            """
            logging: {level: info}
            sources: [{type: synthetic, name: a, count: 5}, {type: synthetic, name: b}]
            sinks:
              - {type: json-file, name: same, directory: out}
              - {type: json-file, name: edited, directory: out, path: x.ndjson}
              - {type: json-file, name: dropped, directory: out}
            """, in: dir)
        let reloaded = try load(
            """
            logging: {level: debug}
            sources: [{type: synthetic, name: a, count: 6}, {type: synthetic, name: b}, {type: synthetic, name: c}]
            sinks:
              - {type: json-file, name: edited, directory: out, path: y.ndjson}
              - {type: json-file, name: same, directory: out}   # moved, not changed
              - {type: json-file, name: new, directory: out}
            """, in: dir)
        let plan = ReloadPlan(running: running, reloaded: reloaded)
        #expect(plan.sinks == .init(added: ["new"], changed: ["edited"], removed: ["dropped"], unchanged: ["same"]))
        #expect(plan.sources == .init(added: ["c"], changed: ["a"], unchanged: ["b"]))
        #expect(plan.restartSettings == ["logging"])
        #expect(
            plan.summary == "reloaded: 1 sink(s) added, 1 sink(s) changed, 1 sink(s) removed, "
                + "1 source(s) added, 1 source(s) changed")
        #expect(ReloadPlan(running: running, reloaded: running).summary == "reloaded, nothing changed")
    }

    @Test func aRotatedSecretFileChangesItsEntry() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let yaml = """
            sinks: [{type: webhook, name: hook, url: "http://127.0.0.1:9/x", auth: {bearer_file: hook.secret}}]
            """
        try dir.write("hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let before = try load(yaml, in: dir)
        #expect(ReloadPlan(running: before, reloaded: try load(yaml, in: dir)).sinks.unchanged == ["hook"])
        try dir.write("hook.secret", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        let plan = ReloadPlan(running: before, reloaded: try load(yaml, in: dir))
        #expect(plan.sinks.changed == ["hook"])
        #expect(!before.sinks[0].fingerprint.contains("MfKQ9r8"), "the fingerprint holds a checksum, not the secret")
    }
}
