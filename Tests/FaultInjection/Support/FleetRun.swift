import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

/// Collectors sharing tenants through JetStream (`coordination:`): real `graph-collector`
/// processes, a 3-node nats-server cluster, and the simulator with its request log.
final class FleetRun {
    static let leaseTTL = 3.0
    static let pollInterval = 1.0
    let cluster: NatsCluster
    let simulator: GraphSimulator
    let configuration: SimulatorConfiguration
    let dir = TemporaryDirectory(prefix: "fleet")
    let url: String
    var pids: [String: pid_t] = [:]

    init(tenants: Int) async throws {
        cluster = try NatsCluster(nodes: 3)
        var c = SimulatorConfiguration()
        c.tenants = tenants
        c.alertsV2 = 6
        c.alertsV1 = 0
        c.incidents = 0
        c.history = .seconds(3600)
        c.arrivalRate = 0.25
        c.updateAfter = .seconds(3600)
        c.recordRequests = true
        configuration = c
        simulator = GraphSimulator(configuration: c)
        url = try await simulator.start()
        for (name, text) in c.tenantFiles { _ = try dir.write("tenants/\(name)", text) }
        try await cluster.waitUntilReady()
    }

    func config(_ name: String) throws -> String {
        try dir.write(
            "\(name).yaml",
            """
            state_directory: state-\(name)
            coordination:
              type: nats
              servers: [\(cluster.urls.map { "\"\($0)\"" }.joined(separator: ", "))]
              bucket: fleet
              lease_ttl: \(Int(FleetRun.leaseTTL))s
              replicas: 3
              instance_name: \(name)
            sources:
              - type: graph-security
                login_url: \(url)
                graph_url: \(url)
                tenants_directory: tenants
                endpoints: [alerts_v2]
                poll_interval: \(Int(FleetRun.pollInterval))s
                ingestion_lag: 0s
                user_agent: fleet-\(name)
            sinks:
              - {type: json-file, directory: out-\(name), path: alerts.ndjson, fsync: never}
            """)
    }

    func start(_ name: String) throws {
        pids[name] = try RsyslogReceiver.spawn(
            CollectorProcess.executable, ["run", "--config", try config(name), "--log-level", "info"],
            log: dir.file("\(name).log"))
    }

    func kill9(_ name: String) {
        guard let pid = pids[name] else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        pids[name] = nil
    }

    /// SIGTERM to one instance; its exit status.
    func stop(_ name: String) async -> Int32? {
        guard let pid = pids[name] else { return nil }
        kill(pid, SIGTERM)
        let watch = await ProcessWatch.watching(pid, timeout: 60)
        pids[name] = nil
        return watch.exitStatus
    }

    func stopAll() async -> [String: Int32] {
        var statuses: [String: Int32] = [:]
        for pid in pids.values { kill(pid, SIGTERM) }
        for (name, pid) in pids {
            let watch = await ProcessWatch.watching(pid, timeout: 60)
            statuses[name] = watch.exitStatus
        }
        pids = [:]
        return statuses
    }

    /// Which instance polled each tenant, in order.
    func agents() async -> [String: [(agent: String, at: Timestamp)]] {
        var out: [String: [(agent: String, at: Timestamp)]] = [:]
        for r in await simulator.requests { out[r.tenant, default: []].append((r.agent ?? "?", r.at)) }
        return out
    }

    /// Alert ids each tenant has in the instances' files together.
    func delivered() throws -> [String: Set<String>] {
        var seen: [String: Set<String>] = [:]
        for entry in try FileManager.default.contentsOfDirectory(atPath: dir.path) where entry.hasPrefix("out-") {
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.file(entry)) {
                let text = try String(contentsOfFile: dir.file("\(entry)/\(file)"), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    guard let event = try? JSONParser.parse(bytes: Array(line.utf8)),
                        let tenant = event["tenant_id"]?.stringValue, let id = event["id"]?.stringValue
                    else { continue }
                    seen[tenant, default: []].insert(id)
                }
            }
        }
        return seen
    }

    func log(_ name: String) -> String {
        ((try? String(contentsOfFile: dir.file("\(name).log"), encoding: .utf8)) ?? "").suffix(3000).description
    }

    deinit {
        for pid in pids.values { kill(pid, SIGKILL) }
        dir.remove()
    }
}
