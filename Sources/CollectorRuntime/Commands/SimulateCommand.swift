import ArgumentParser
import CollectorConfig
import CollectorCore
import CurlTransport
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import Logging
import UnixSignals

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Serve the built-in Graph Security API simulator on 127.0.0.1 until SIGINT/SIGTERM.",
        discussion: "Data and faults come from the 'simulator:' section of --config (defaults without one).")

    @Option(name: .shortAndLong, help: "A configuration file with a 'simulator:' section.")
    var config: String?

    @Option(help: "Port to listen on (0: any free port; default: the config's simulator.port).")
    var port: UInt16?

    func run() async throws {
        var settings = SimulatorConfiguration()
        var configuredPort: UInt16 = 0
        if let config, let s = try loadConfiguration(config).settings.simulator {
            settings = s.configuration
            configuredPort = s.port
        }
        let simulator = GraphSimulator(configuration: settings)
        let url = try await simulator.start(port: port ?? configuredPort)
        print("Graph simulator listening on \(url)")
        print("  token endpoint: \(url)/\(settings.tenantId)/oauth2/v2.0/token")
        print(
            "  tenant_id: \(settings.tenantId)  client_id: \(settings.clientId)  client_secret: "
                + "\(settings.clientSecret)"
        )
        print("  endpoints: \(url)/v1.0/security/alerts_v2, /incidents, /alerts")
        FileHandle.standardOutput.synchronizeFile()
        await waitForTermination()
        await simulator.stop()
    }
}
