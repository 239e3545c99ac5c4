import CollectorCore
import CollectorTesting
import Foundation
import Testing

@testable import CollectorRuntime

/// The fleet's pure parts: its settings, who collects which tenant, key names.
@Suite struct FleetSettingsTests {
    @Test func defaultsAreSane() throws {
        let s = try CollectorTestingConfig.decode(
            FleetSettings.self, yaml: "type: nats\nservers: [\"nats://127.0.0.1:4222\"]")
        #expect(s.bucket == "graph-collector" && s.leaseTTL.seconds == 15 && s.replicas == 1)
        #expect(s.instanceName == ProcessInfo.processInfo.hostName && !s.useTLS)
    }

    @Test(arguments: [
        ("type: zookeeper\nservers: [\"nats://a:4222\"]", "unknown coordination type 'zookeeper'"),
        ("type: nats\nservers: []", "servers: nats://"),
        ("type: nats\nservers: [\"nats://u:p@a:4222\"]", "credentials in auth:"),
        ("type: nats\nservers: [\"nats://a:4222\"]\nbucket: \"a.b\"", "bucket name"),
        ("type: nats\nservers: [\"nats://a:4222\"]\nlease_ttl: 1s", "at least 2s"),
        ("type: nats\nservers: [\"nats://a:4222\"]\nreplicas: 9", "replicas must be 1 to 5"),
    ])
    func aBadSettingSaysWhatIsWrong(yaml: String, expected: String) {
        #expect {
            _ = try CollectorTestingConfig.decode(FleetSettings.self, yaml: yaml)
        } throws: { "\($0)".contains(expected) }
    }

    @Test func tenantsAreSpreadEvenlyAndAJoiningInstanceMovesOnlyItsShare() {
        let tenants = (0..<30).map { "tenant-\($0)" }
        let three = TenantAssignment.owners(units: tenants, instances: ["a-1", "b-2", "c-3"])
        #expect(three.count == 30)
        #expect(Dictionary(grouping: three.values) { $0 }.mapValues(\.count) == ["a-1": 10, "b-2": 10, "c-3": 10])
        // The same answer whatever order the instances are listed in, in any process.
        #expect(TenantAssignment.owners(units: tenants.reversed(), instances: ["c-3", "a-1", "b-2"]) == three)
        let two = TenantAssignment.owners(units: tenants, instances: ["a-1", "c-3"])
        #expect(Dictionary(grouping: two.values) { $0 }.mapValues(\.count) == ["a-1": 15, "c-3": 15])
        let four = TenantAssignment.owners(units: tenants, instances: ["a-1", "b-2", "c-3", "d-4"])
        let counts = Dictionary(grouping: four.values) { $0 }.mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 == 7 || $0 == 8 }, "\(counts)")
        let moved = tenants.filter { three[$0] != four[$0] }
        print(
            "tenant assignment: 3 -> 4 instances moved \(moved.count) of 30 tenants, \(moved.filter { four[$0] == "d-4" }.count) to the new one"
        )
        #expect(moved.count <= 12, "a joining instance moves about its share, not everything: \(moved.count)")
        #expect(TenantAssignment.owners(units: tenants, instances: []).isEmpty)
    }

    @Test func keysKeepDistinctNamesDistinct() {
        #expect(FleetKey.lease(source: "graph", unit: "5f1c7d3e-2a4b") == "lease.graph.5f1c7d3e-2a4b")
        #expect(FleetKey.token("a.b") != FleetKey.token("a_b") && FleetKey.token("a.b") == "a=2Eb")
        #expect(FleetKey.token("") == "=" && FleetKey.token("é") == "=C3=A9")
    }

    @Test func collectingUntilCaughtUpIsRefusedInAFleet() async throws {
        let dir = TemporaryDirectory(prefix: "fleet-config")
        defer { dir.remove() }
        let config = try dir.write(
            "c.yaml",
            """
            coordination: {type: nats, servers: ["nats://127.0.0.1:1"]}
            sources:
              - {type: graph-security, tenants: [{tenant_id: t, client_id: c, client_secret: s}], stop_when_caught_up: true}
            sinks:
              - {type: json-file, directory: out, path: a.ndjson}
            """)
        let run = try await CollectorProcess.run(["run", "--config", config])
        #expect(
            run.status != 0 && run.stderr.contains("stop_when_caught_up does not go with coordination:"),
            "\(run.stderr)")
    }
}
