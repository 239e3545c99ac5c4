import CollectorCore

/// A sink opened on its first write: what a SIGHUP adds or reopens with a new configuration. If
/// it cannot open yet (a receiver is down, a directory is missing), the write fails as a
/// retryable error, so the pipeline retries with backoff and spools, and the reload itself goes
/// through; the error says which sink and why.
actor DeferredSink: Sink {
    let name: String
    let make: @Sendable () async throws -> any Sink
    private var sink: (any Sink)?
    private var closed = false

    init(name: String, make: @escaping @Sendable () async throws -> any Sink) {
        self.name = name
        self.make = make
    }

    /// Opens the sink now if it is not open; throws why it cannot.
    func open() async throws -> any Sink {
        if let sink { return sink }
        do {
            let opened = try await make()
            sink = opened
            return opened
        } catch {
            throw SinkError.retryable("sink '\(name)' could not open with its new configuration", underlying: error)
        }
    }

    func write(_ batch: [Event]) async throws {
        try await open().write(batch)
    }

    func flush() async throws {
        try await sink?.flush()
    }

    func close() async throws {
        guard !closed else { return }
        closed = true
        try await sink?.close()
    }

    func reopen() async throws {
        try await sink?.reopen()
    }
}
