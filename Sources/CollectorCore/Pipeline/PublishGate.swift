/// Publications share the pipeline; a reconfiguration (SIGHUP) has it alone. A reconfiguration
/// waits until the publications in progress have queued their events, and publications that
/// arrive meanwhile wait until it is done, so no event is ever queued for a sink that is being
/// removed or replaced. A waiting reconfiguration goes before new publications, for a limited
/// time: a publication blocked on the full queue of a sink that keeps failing would otherwise
/// hold it (and every publication behind it) forever.
actor PublishGate {
    private var publishing = 0
    private var reconfiguring = false
    private var publishers: [CheckedContinuation<Void, Never>] = []
    private var reconfigurations: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID = 0

    /// Enters as one of many publications.
    func enterShared() async {
        if !reconfiguring && reconfigurations.isEmpty {
            publishing += 1
            return
        }
        await withCheckedContinuation { publishers.append($0) }
    }

    func leaveShared() {
        publishing -= 1
        if publishing == 0 { handOver() }
    }

    /// Enters alone, once every publication in progress has left; false (not entered) when that
    /// takes longer than `limit`.
    func enterExclusive(within limit: Duration) async -> Bool {
        if !reconfiguring && publishing == 0 {
            reconfiguring = true
            return true
        }
        let id = nextID
        nextID += 1
        let timer = Task { [weak self] in
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            await self?.withdraw(id)
        }
        let entered = await withCheckedContinuation { reconfigurations.append((id, $0)) }
        timer.cancel()
        return entered
    }

    /// A reconfiguration that waited too long gives up; the publications behind it go on.
    private func withdraw(_ id: Int) {
        guard let index = reconfigurations.firstIndex(where: { $0.id == id }) else { return }
        reconfigurations.remove(at: index).continuation.resume(returning: false)
        handOver()
    }

    func leaveExclusive() {
        reconfiguring = false
        handOver()
    }

    /// Lets the next reconfiguration in, or else every waiting publication.
    private func handOver() {
        guard !reconfiguring, publishing == 0 || reconfigurations.isEmpty else { return }
        if publishing == 0, !reconfigurations.isEmpty {
            reconfiguring = true
            reconfigurations.removeFirst().continuation.resume(returning: true)
            return
        }
        let waiting = publishers
        publishers = []
        publishing += waiting.count
        for p in waiting { p.resume() }
    }
}
