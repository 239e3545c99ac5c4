/// Where a source keeps one checkpoint: a file by default, a key of the fleet's bucket when
/// collectors share their tenants (`coordination:`).
public protocol CheckpointStorage: Sendable {
    /// Where it is, for messages: a path, or `bucket/key`.
    var location: String { get }
    /// The saved checkpoint, or nil when none was ever saved.
    func load() async throws -> JSONValue?
    /// Replaces the checkpoint. Throws when it cannot be saved, or when this instance no longer
    /// owns it (another instance took its tenant over).
    func save(_ value: JSONValue) async throws
}

/// Collectors sharing their tenants: which tenants of a source this instance collects, for how
/// long, and where their checkpoints live. The runtime provides it when the configuration has
/// `coordination:`; without it, a source collects every tenant with local checkpoints.
public protocol SourceCoordination: Sendable {
    /// Runs `work` for each of `units` (a source's tenants) while this instance owns it: `work`
    /// gets the unit and a stop request that is made when the unit goes to another instance
    /// (a rebalance, or a lease this instance could not renew) or the source stops; it must
    /// then checkpoint what the sinks accepted and return. Returns once `stop` is requested and
    /// every `work` has returned.
    func runOwned(
        source: String, units: [String], stop: StopRequest,
        work: @escaping @Sendable (_ unit: String, _ stop: StopRequest) async throws -> Void
    ) async throws

    /// The checkpoint `name` of a unit, saved only while this instance owns the unit. `local`
    /// is where it would be without a fleet: read once when the fleet has none yet, so that
    /// turning `coordination:` on resumes where the collector was.
    func checkpoint(source: String, unit: String, name: String, local: any CheckpointStorage) -> any CheckpointStorage
}

extension StopRequest {
    /// A stop request that is also made when this one is: a part of the work stops alone, and
    /// with the whole.
    public func child() -> StopRequest {
        let child = StopRequest()
        whenRequested { child.request() }
        return child
    }
}
