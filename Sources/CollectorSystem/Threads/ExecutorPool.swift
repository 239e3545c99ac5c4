/// A fixed set of ``DedicatedThreadExecutor``s shared by many small actors that do blocking I/O
/// now and then (a thousand tenants' checkpoint files), so the thread count stays the pool's
/// size however many actors there are.
///
/// An actor picks its executor by a stable key; actors on one executor run one at a time, so
/// keep their jobs short (a file write, not a wait).
public final class ExecutorPool: Sendable {
    private let executors: [DedicatedThreadExecutor]

    /// The pool for checkpoint files: writes are small and atomic, a few threads keep a
    /// thousand tenants' saves from queueing behind one `fsync`.
    public static let checkpoints = ExecutorPool(name: "checkpoints", size: 4)

    public init(name: String, size: Int) {
        executors = (0..<max(1, size)).map { DedicatedThreadExecutor(name: "\(name)-\($0)") }
    }

    /// The executor for `key`: the same one every time for the same key.
    public func executor(for key: String) -> DedicatedThreadExecutor {
        // FNV-1a: stable across runs, unlike `Hasher`.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return executors[Int(hash % UInt64(executors.count))]
    }
}
