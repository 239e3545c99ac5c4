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

enum Case: String, CaseIterable {
    case kill9 = "kill-9"
    case sigterm = "sigterm"
    case rsyslogOutage = "rsyslog-outage"
    case webhook500 = "webhook-500"
    case diskFull = "disk-full"
    case readOnlyDisk = "read-only-disk"
    case apiFaults = "api-faults"
    case jetStreamKill9 = "jetstream-kill-9"
    case fleetKill9 = "fleet-kill-9"
}

/// Runs the cases with the chosen sizes and one seeded random source.
final class CaseRunner {
    let options: FaultInjectionCommand
    var random: SeededRandom

    init(options: FaultInjectionCommand) {
        self.options = options
        random = SeededRandom(state: options.seedValue)
    }

    func run(_ c: Case) async throws -> Outcome {
        switch c {
        case .kill9: return try await kill9()
        case .sigterm: return try await sigterm()
        case .rsyslogOutage: return try await rsyslogOutage()
        case .webhook500: return try await webhook500()
        case .diskFull: return try await diskFull()
        case .readOnlyDisk: return try await readOnlyDisk()
        case .apiFaults: return try await apiFaults()
        case .jetStreamKill9: return try await jetStreamKill9()
        case .fleetKill9: return try await fleetKill9()
        }
    }

    func simulator(_ configure: (inout SimulatorConfiguration) -> Void) async throws -> (GraphSimulator, String) {
        var c = SimulatorConfiguration()
        c.alertsV2 = 0
        c.alertsV1 = 0
        c.incidents = 0
        c.history = .seconds(2 * 86_400)
        c.seed = options.seedValue
        configure(&c)
        let s = GraphSimulator(configuration: c)
        return (s, try await s.start())
    }
}
