import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

let webhookSecret = "whsec_" + Data("fault-injection-signing-key-32by".utf8).base64EncodedString()

/// The collector's configuration: the Graph source on the simulator, and the given sinks.
func configuration(
    _ w: Workspace, simulator: GraphSimulator, url: String, endpoints: String, pageSize: Int, sinks: [String]
) throws -> String {
    let c = simulator.configuration
    let text = """
        state_directory: state
        pipeline: {drain_timeout: 600s}
        sources:
          - type: graph-security
            name: graph
            login_url: \(url)
            graph_url: \(url)
            tenants:
              - {tenant_id: \(c.tenantId), client_id: \(c.clientId), client_secret: \(c.clientSecret)}
            endpoints: \(endpoints)
            page_size: {alerts: \(pageSize), alerts_v2: \(pageSize), incidents: 50}
            poll_interval: 200ms
            ingestion_lag: 0s
            look_back: 4d
            stop_when_caught_up: true
            requests_per_minute: 100000
            max_attempts: 40
            retry: {initial_delay: 50ms, max_delay: 1s}
        sinks:
        \(sinks.map { "  - " + $0 }.joined(separator: "\n"))
        """
    return try w.directory.write("collector.yaml", text)
}

enum Sinks {
    static let retry = "retry: {initial_delay: 100ms, max_delay: 1s}, spool_max_size: 2GiB"
    static func files(_ directory: String) -> String {
        "{type: json-file, name: files, directory: \(directory), \(retry)}"
    }
    static func archive(_ directory: String) -> String {
        "{type: gzip-archive, name: archive, directory: \(directory), \(retry)}"
    }
    static func syslog(_ r: RsyslogReceiver) -> String {
        "{type: syslog, name: siem, transport: tcp, framing: octet-counting, targets: [\"127.0.0.1:\(r.tcpPort)\"], connect_timeout: 1s, \(retry)}"
    }
    static func webhook(_ r: WebhookReceiver) -> String {
        "{type: webhook, name: soar, url: \"\(r.url)\", signing: {secrets: [\"\(webhookSecret)\"]}, max_events_per_request: 500, \(retry)}"
    }
}

/// What the simulator shows on an endpoint, as `kind/id` keys.
func keys(_ sim: GraphSimulator, _ endpoint: GraphEndpoint) async -> Set<String> {
    let kind: SecurityAlert.Kind =
        switch endpoint {
        case .alertsV2: .alertV2
        case .alerts: .alertV1
        case .incidents: .incident
        }
    return Set(await sim.visibleIDs(endpoint).map { "\(kind.rawValue)/\($0)" })
}

/// One collector run to the end, with `fault` run alongside it (it gets the elapsed time).
func runToEnd(
    _ config: String, _ w: Workspace, _ outcome: inout Outcome, label: String = "collector",
    during fault: (@Sendable () async throws -> Void)? = nil
) async throws {
    let run = try CollectorRun(config: config, log: w.path("\(label).log"))
    let faultTask = fault.map { f in Task { try await f() } }
    let status = await run.wait(timeout: .seconds(900))
    if status == nil { run.kill9() }
    try await faultTask?.value
    outcome.check(
        status == 0,
        "\(label) exited \(status.map(String.init) ?? "(killed after 900 s)")" + (status == 0 ? "" : ":\n" + run.tail))
}

func sinkStatistic(_ w: Workspace, sink: String, _ key: String) -> Int {
    guard let bytes = FileManager.default.contents(atPath: w.path("state/status.json")),
        let json = try? JSONParser.parse(bytes: Array(bytes))
    else { return 0 }
    return json["sinks"]?.arrayValue?.first { $0["name"]?.stringValue == sink }?[key]?.intValue ?? 0
}
