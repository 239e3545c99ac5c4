import Foundation

/// One fuzz target: a function over arbitrary bytes that must neither trap nor break the
/// invariant it checks (a broken invariant is a `preconditionFailure`, which libFuzzer reports
/// as a crash with the input that caused it).
package struct FuzzHarness: Sendable {
    package var name: String
    package var summary: String
    package var run: @Sendable ([UInt8]) -> Void

    package init(_ name: String, _ summary: String, _ run: @escaping @Sendable ([UInt8]) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

extension FuzzHarness {
    /// Every target, by name. `Fuzz/Corpus/<name>/` holds each one's seeds.
    package static let all: [FuzzHarness] = [
        warningHeader, retryAfter, timestamp, json, graphPage, leef, formats, configuration, checkpoint, spool,
        deadLetters,
    ]

    package static func named(_ name: String) -> FuzzHarness? { all.first { $0.name == name } }
}

/// Checks an invariant; on failure, stops with the message (libFuzzer saves the input).
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { preconditionFailure(message()) }
}

/// Runs async code to completion from the fuzzer's synchronous callback.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.value = await body()
        done.signal()
    }
    done.wait()
    return box.value!
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// A scratch directory for the file-reading targets, one per process, emptied per input.
enum Scratch {
    static let directory: String = {
        let path = NSTemporaryDirectory() + "graph-collector-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func reset() -> String {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
            try? fm.removeItem(atPath: "\(directory)/\(name)")
        }
        return directory
    }
}
