public import CollectorSystem

/// The executor a sink's actor runs on when it makes blocking calls (file I/O, C libraries), so
/// they never hold one of the cooperative pool's threads. Defined in the bottom module with the
/// other system helpers; named here because every sink author needs it.
public typealias DedicatedThreadExecutor = CollectorSystem.DedicatedThreadExecutor
