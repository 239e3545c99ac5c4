import Foundation

/// A small deterministic generator (SplitMix64): the same seed gives the same values, so a
/// randomized test that prints its seed can be replayed from it.
public struct SeededRandom: RandomNumberGenerator {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededRandom {
    /// A generator for a randomized test: seeded from the environment variable `variable` when
    /// it is set (to replay a run), else at random. The seed is printed with how to replay it.
    public static func forTest(_ name: String, replayWith variable: String) -> (random: SeededRandom, seed: UInt64) {
        let seed =
            ProcessInfo.processInfo.environment[variable].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64.max)
        print("\(name) seed \(seed) (replay: \(variable)=\(seed))")
        return (SeededRandom(state: seed), seed)
    }
}
