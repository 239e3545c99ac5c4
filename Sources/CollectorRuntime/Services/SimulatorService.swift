package import GraphSimulator
import ServiceLifecycle

/// The top-level `simulator:` section: the simulator's data and faults, and its port.
package struct SimulatorSettings: Sendable, Decodable {
    /// 0: any free port on 127.0.0.1.
    package var port: UInt16
    package var configuration: SimulatorConfiguration

    enum CodingKeys: String, CodingKey { case port }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decodeIfPresent(UInt16.self, forKey: .port) ?? 0
        configuration = try SimulatorConfiguration(from: decoder)
    }
}

extension SimulatorSettings {
    /// Starts the simulator and names its URL in `services` (`graph-simulator`), where
    /// `cloud: simulator` sources find it.
    package func start(services: inout [String: String]) async throws -> GraphSimulator {
        let simulator = GraphSimulator(configuration: configuration)
        do {
            services["graph-simulator"] = try await simulator.start(port: port)
        } catch {
            throw StartupError(message: "the Graph simulator could not listen on 127.0.0.1:\(port): \(error)")
        }
        return simulator
    }
}

/// The built-in simulator as a service of the run: started before the sources (so they find its
/// URL), stopped after the pipeline has drained.
struct SimulatorService: Service {
    let simulator: GraphSimulator

    func run() async throws {
        try? await gracefulShutdown()
        await simulator.stop()
    }
}
