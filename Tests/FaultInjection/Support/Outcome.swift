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

struct Outcome {
    var passed = true
    var lines: [String] = []

    mutating func check(_ condition: Bool, _ line: String) {
        if !condition { passed = false }
        lines.append((condition ? "  ok    " : "  FAIL  ") + line)
    }

    /// Every expected id is in the sink; nothing unexpected; duplicates counted.
    mutating func compare(sink: String, got: [String], expected: Set<String>) {
        let unique = Set(got)
        let lost = expected.subtracting(unique).count
        let unexpected = unique.subtracting(expected).count
        check(
            lost == 0 && unexpected == 0,
            "\(sink): \(unique.count)/\(expected.count) alerts, \(lost) lost, \(got.count - unique.count) duplicates"
                + (unexpected > 0 ? ", \(unexpected) not from the simulator" : ""))
    }
}

/// Hands a non-Sendable reference to a fault task that runs while the case waits.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
