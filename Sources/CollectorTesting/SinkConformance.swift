public import CollectorCore

/// Checks that a sink keeps the ``Sink`` contract. Run it from your sink's tests:
/// ```swift
/// @Test func conformsToTheSinkContract() async throws {
///     let dir = makeTemporaryDirectory()
///     try await SinkConformance.check(
///         makeSink: { try await CSVSink(path: "\(dir)/out.csv") },
///         readBack: { try CSVSink.read("\(dir)/out.csv") })
/// }
/// ```
/// Also run ``checkCancellation(makeSink:readBack:timeout:comparing:)`` and
/// ``checkFailureReporting(expectRetryable:timeout:makeBrokenSink:)``, as swift-configuration's
/// provider compatibility suite does for providers.
///
/// `readBack` returns the events the sink's output holds, in order, after the sink was closed;
/// return nil if your sink's output cannot be read back (a network sink with no receiver in
/// the test), and only the calling contract is checked.
public enum SinkConformance {
    /// A broken rule, with what was expected and what happened.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var rule: String
        public var detail: String
        public var description: String { "sink contract: \(rule): \(detail)" }
    }

    /// Runs the checks; throws the first ``Failure``.
    public static func check(
        makeSink: @Sendable () async throws -> any Sink,
        readBack: @Sendable () async throws -> [Event]?,
        comparing equivalent: @Sendable (Event, Event) -> Bool = { $0 == $1 }
    ) async throws {
        let batches: [[Event]] = [
            SampleEvents.alerts(0..<3),
            [SampleEvents.providerWarning(status: 403)],
            SampleEvents.alerts(3..<120),
            [
                .health(
                    CollectorHealth(
                        component: "test", level: .warning, code: "conformance", message: "a health event",
                        observedAt: Timestamp(nanosecondsSinceEpoch: 1_763_900_000_000_000_000)))
            ],
        ]
        let sink = try await makeSink()
        for batch in batches {
            do {
                try await sink.write(batch)
            } catch {
                throw Failure(
                    rule: "write accepts valid events", detail: "write of \(batch.count) event(s) threw \(error)")
            }
        }
        do {
            try await sink.flush()
            try await sink.flush()
        } catch {
            throw Failure(rule: "flush may be called repeatedly", detail: "flush threw \(error)")
        }
        do {
            try await sink.write([])
        } catch {
            throw Failure(rule: "an empty batch is accepted", detail: "write([]) threw \(error)")
        }
        do {
            try await sink.close()
        } catch {
            throw Failure(rule: "close succeeds after flush", detail: "close threw \(error)")
        }
        guard let written = try await readBack() else { return }
        let expected = batches.flatMap { $0 }
        guard written.count == expected.count else {
            throw Failure(
                rule: "every accepted event is in the output",
                detail: "wrote \(expected.count), read back \(written.count)")
        }
        for (i, (a, b)) in zip(expected, written).enumerated() where !equivalent(a, b) {
            throw Failure(
                rule: "events keep their order and content",
                detail: "event \(i) differs: wrote \(a.jsonValue), read \(b.jsonValue)")
        }

        // A sink built again over the same output keeps what was there (restart safety).
        let again = try await makeSink()
        try await again.write(SampleEvents.alerts(200..<201))
        try await again.close()
        if let after = try await readBack(), after.count < expected.count {
            throw Failure(
                rule: "a restarted sink does not lose earlier output",
                detail: "had \(expected.count), now \(after.count)")
        }
    }

    /// Checks behaviour under cancellation: a `write` whose task is cancelled must return or
    /// throw promptly (within `timeout`), must leave the output whole (the cancelled batch is
    /// either entirely there or not at all), and the sink must keep working: the next batch is
    /// accepted and read back after it.
    public static func checkCancellation(
        makeSink: @Sendable () async throws -> any Sink,
        readBack: @Sendable () async throws -> [Event]?,
        timeout: Duration = .seconds(30),
        comparing equivalent: @Sendable @escaping (Event, Event) -> Bool = { $0 == $1 }
    ) async throws {
        let sink = try await makeSink()
        let cancelled = SampleEvents.alerts(1000..<1200)
        let task = Task { try await sink.write(cancelled) }
        task.cancel()
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                _ = await task.result
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard finished else {
            throw Failure(
                rule: "a cancelled write returns promptly",
                detail: "write still running \(timeout) after its task was cancelled")
        }
        let after = SampleEvents.alerts(1200..<1203)
        do {
            try await sink.write(after)
            try await sink.close()
        } catch {
            throw Failure(
                rule: "a sink keeps working after a cancelled write", detail: "the next write or close threw \(error)")
        }
        guard let written = try await readBack() else { return }
        let present = cancelled.filter { e in written.contains { equivalent($0, e) } }
        guard present.isEmpty || present.count == cancelled.count else {
            throw Failure(
                rule: "a cancelled batch is all or nothing",
                detail: "\(present.count) of \(cancelled.count) events of the cancelled batch are in the output")
        }
        guard written.suffix(after.count).count == after.count,
            zip(written.suffix(after.count), after).allSatisfy({ equivalent($0, $1) })
        else {
            throw Failure(
                rule: "the batch after a cancelled write is accepted", detail: "the output does not end with it")
        }
    }

    /// Checks that a sink whose destination cannot work reports it the way the pipeline needs:
    /// by throwing a ``SinkError`` (retryable for an outage, permanent for content that will
    /// never be taken), not another error type, and not by hanging. `makeBrokenSink` builds the
    /// sink against a destination that is down (an unused port, a read-only directory).
    public static func checkFailureReporting(
        expectRetryable: Bool = true,
        timeout: Duration = .seconds(30),
        makeBrokenSink: @Sendable () async throws -> any Sink
    ) async throws {
        let sink = try await makeBrokenSink()
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    try await sink.write(SampleEvents.alerts(0..<3))
                    return .success(())
                } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
                ?? .failure(Failure(rule: "a failing write returns", detail: "write still running after \(timeout)"))
        }
        try? await sink.close()
        switch outcome {
        case .success:
            throw Failure(
                rule: "a write to a broken destination fails",
                detail: "write returned normally, so the pipeline would acknowledge events that went nowhere")
        case .failure(let error as Failure):
            throw error
        case .failure(let error as SinkError):
            if error.isRetryable != expectRetryable {
                throw Failure(
                    rule: "failures are classified",
                    detail: "expected a \(expectRetryable ? "retryable" : "permanent") SinkError, got \(error)")
            }
        case .failure(let error):
            throw Failure(
                rule: "failures are SinkErrors",
                detail: "threw \(type(of: error)): \(error); wrap it in SinkError.retryable or .permanent")
        }
    }
}
