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
            [.health(CollectorHealth(component: "test", level: .warning, code: "conformance", message: "a health event",
                                     observedAt: Timestamp(nanosecondsSinceEpoch: 1_763_900_000_000_000_000)))],
        ]
        let sink = try await makeSink()
        for batch in batches {
            do {
                try await sink.write(batch)
            } catch {
                throw Failure(rule: "write accepts valid events", detail: "write of \(batch.count) event(s) threw \(error)")
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
            throw Failure(rule: "every accepted event is in the output", detail: "wrote \(expected.count), read back \(written.count)")
        }
        for (i, (a, b)) in zip(expected, written).enumerated() where !equivalent(a, b) {
            throw Failure(rule: "events keep their order and content", detail: "event \(i) differs: wrote \(a.jsonValue), read \(b.jsonValue)")
        }

        // A sink built again over the same output keeps what was there (restart safety).
        let again = try await makeSink()
        try await again.write(SampleEvents.alerts(200..<201))
        try await again.close()
        if let after = try await readBack(), after.count < expected.count {
            throw Failure(rule: "a restarted sink does not lose earlier output", detail: "had \(expected.count), now \(after.count)")
        }
    }
}
