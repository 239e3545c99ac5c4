import CollectorCore
import CollectorTesting
import Foundation
import GraphSimulator
import TestReceivers

extension CaseRunner {
    /// Three collectors share 30 tenants through a 3-node JetStream cluster. One is killed with
    /// SIGKILL, a fourth joins, one stops with SIGTERM: the tenants move within the lease TTL
    /// plus the poll interval, no alert is lost, and the simulator never sees a tenant polled by
    /// two instances at once.
    func fleetKill9() async throws -> Outcome {
        var outcome = Outcome()
        let fleet = try await FleetRun(tenants: 30)
        for name in ["a", "b", "c"] { try fleet.start(name) }
        let owners = await settle(fleet) { $0.count == 30 && Set($0.values).count == 3 }
        let shares = Self.shares(owners)
        outcome.check(
            shares == ["fleet-a": 10, "fleet-b": 10, "fleet-c": 10], "an even share each of 30 tenants: \(shares)")

        let killedAt = Timestamp.now()
        fleet.kill9("b")
        try await Task.sleep(for: .seconds(FleetRun.leaseTTL + FleetRun.pollInterval + 4))
        let worst = await Self.worstTakeOver(
            fleet, of: owners.filter { $0.value == "fleet-b" }.map(\.key), from: "fleet-b", at: killedAt)
        outcome.check(
            worst <= FleetRun.leaseTTL + FleetRun.pollInterval,
            "b's tenants polled by the others \(formatted(worst)) s after kill -9 (lease TTL \(FleetRun.leaseTTL) s + poll "
                + "interval \(FleetRun.pollInterval) s)")

        try fleet.start("d")
        let joined = Self.shares(await settle(fleet) { Self.shares($0)["fleet-d"] == 10 })
        outcome.check(
            joined == ["fleet-a": 10, "fleet-c": 10, "fleet-d": 10], "d joined and took its share: \(joined)")
        let status = try await CollectorProcess.run(["status", "--config", fleet.dir.file("a.yaml")])
        outcome.check(
            status.stdout.contains("3 instance(s)") && status.stdout.contains("30 tenant lease(s) held"),
            "status shows 3 instances and 30 leases"
                + (status.stdout.contains("30 tenant") ? "" : ":\n\(status.stdout)"))

        let aTenants = Self.lastAgents(await fleet.agents()).filter { $0.value == "fleet-a" }.map(\.key)
        let stoppedAt = Timestamp.now()
        let aStatus = await fleet.stop("a")
        outcome.check(aStatus == 0, "a stopped on SIGTERM with \(aStatus.map(String.init) ?? "?")")
        try await Task.sleep(for: .seconds(3))
        let handOver = await Self.worstTakeOver(fleet, of: aTenants, from: "fleet-a", at: stoppedAt)
        outcome.check(
            handOver < FleetRun.leaseTTL, "a's tenants polled by the others \(formatted(handOver)) s after its SIGTERM")

        let cutoff = Timestamp.now().adding(seconds: -3)
        let statuses = await fleet.stopAll()
        outcome.check(statuses.values.allSatisfy { $0 == 0 }, "c and d stopped with \(statuses)")
        try await checkDelivery(fleet, before: cutoff, into: &outcome)
        await fleet.simulator.stop()
        return outcome
    }

    /// Every alert visible before `cutoff` is in the instances' files together, and no tenant
    /// was polled by two instances at once (they would alternate with every poll, once a second).
    private func checkDelivery(_ fleet: FleetRun, before cutoff: Timestamp, into outcome: inout Outcome) async throws {
        let delivered = try fleet.delivered()
        var expected = 0
        var missing: [String] = []
        for tenant in fleet.configuration.tenantIds {
            let ids = Set(await fleet.simulator.visibleVersions(.alertsV2, tenant: tenant, now: cutoff).map(\.id))
            expected += ids.count
            let lost = ids.subtracting(delivered[tenant] ?? [])
            if !lost.isEmpty { missing.append("\(tenant): \(lost.count) of \(ids.count)") }
        }
        outcome.check(
            missing.isEmpty, "\(expected) alerts of 30 tenants, 0 lost" + (missing.isEmpty ? "" : ": \(missing)"))
        var changes: [String: [String]] = [:]
        for (tenant, requests) in await fleet.agents() {
            var runs: [String] = []
            for r in requests where runs.last != r.agent { runs.append(r.agent) }
            changes[tenant] = runs
        }
        let most = changes.values.map { $0.count - 1 }.max() ?? 0
        outcome.check(
            most <= 4,
            "no tenant polled by two instances at once: at most \(most) changes of hands per tenant over "
                + "\((await fleet.simulator.requests).count) requests (the fleet changed 4 times)")
    }

    /// Waits (up to 60 s) until the tenants' last pollers satisfy `done`; returns them.
    private func settle(_ fleet: FleetRun, _ done: ([String: String]) -> Bool) async -> [String: String] {
        let deadline = ContinuousClock.now + .seconds(60)
        var owners = Self.lastAgents(await fleet.agents())
        while !done(owners) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .seconds(1))
            owners = Self.lastAgents(await fleet.agents())
        }
        try? await Task.sleep(for: .seconds(2))  // and a moment more, for stragglers to settle
        return Self.lastAgents(await fleet.agents())
    }

    /// The longest time from `at` until another instance polled each of `tenants`.
    private static func worstTakeOver(_ fleet: FleetRun, of tenants: [String], from agent: String, at: Timestamp)
        async -> Double
    {
        let requests = await fleet.agents()
        var worst = 0.0
        for tenant in tenants {
            guard let next = requests[tenant]?.first(where: { $0.at > at && $0.agent != agent }) else {
                return .infinity
            }
            worst = max(worst, Double(next.at.nanosecondsSinceEpoch - at.nanosecondsSinceEpoch) / 1e9)
        }
        return worst
    }

    static func lastAgents(_ agents: [String: [(agent: String, at: Timestamp)]]) -> [String: String] {
        agents.compactMapValues { $0.last?.agent }
    }

    static func shares(_ owners: [String: String]) -> [String: Int] {
        Dictionary(grouping: owners.keys) { owners[$0]! }.mapValues(\.count)
    }

    private func formatted(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
}
