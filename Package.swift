// swift-tools-version:6.2
import Foundation
import PackageDescription

// graph-collector: polls the Microsoft Graph Security API and publishes normalized alert and
// provider-warning events to pluggable sinks.
//
// Dependencies, and why each is worth its build time:
// - swift-argument-parser: the `graph-collector` command line (subcommands, help, errors).
// - swift-log: the logging API every Swift server library speaks; our handlers back it.
// - swift-service-lifecycle: ordered startup, SIGINT/SIGTERM graceful shutdown of sources and sinks.
// - FlyingFox: a small async HTTP/1.1 server on plain sockets (no NIO) for the built-in Graph
//   simulator, which the quickstart and the tests collect from over real HTTP.
// - swift-collections (DequeModule only): the sink queue and a rate limiter's window are
//   Deques, not hand-kept indexes.
// - Yams: YAML configuration with source positions (line/column) for every node, so config
//   errors can point at the exact place.
let package = Package(
    name: "graph-collector",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "graph-collector", targets: ["graph-collector"]),
        .library(name: "CollectorCore", targets: ["CollectorCore"]),
        .library(name: "CollectorRuntime", targets: ["CollectorRuntime"]),
        .library(name: "CollectorSinks", targets: ["CollectorSinks"]),
        .library(name: "EventFormats", targets: ["EventFormats"]),
        .library(name: "CollectorConfig", targets: ["CollectorConfig"]),
        .library(name: "CollectorTesting", targets: ["CollectorTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, with static inline shims for what Swift cannot call.
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev", "pkg-config"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev", "pkg-config"])]),
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev", "pkg-config"])]),
        .systemLibrary(
            name: "CNats", pkgConfig: "libnats",
            providers: [.apt(["libnats-dev", "pkg-config"])]),

        // The bottom layer: threads, files, checksums, rate limiting, percent-encoding.
        .target(
            name: "CollectorSystem",
            dependencies: ["CZlib", .product(name: "DequeModule", package: "swift-collections")]),
        .target(
            name: "CollectorCore",
            dependencies: [
                "CollectorSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]),
        .target(
            name: "CurlTransport", dependencies: ["CCurl", "CollectorSystem"]),
        // NATS and JetStream through the official C client: connections, publishing with
        // acknowledgements, streams. Blocking calls, made from dedicated threads.
        .target(name: "NatsClient", dependencies: ["CNats"]),
        .target(name: "EventFormats", dependencies: ["CollectorCore"]),
        .target(name: "GzipStream", dependencies: ["CZlib"]),
        .target(
            name: "CollectorSinks",
            dependencies: [
                "CollectorCore", "CollectorSystem", "EventFormats", "CurlTransport", "GzipStream", "COpenSSL",
                "NatsClient", .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "GraphSecuritySource",
            dependencies: [
                "CollectorCore", "CollectorSystem", "CurlTransport", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        .target(
            name: "GraphSimulator",
            dependencies: [
                "CollectorCore", "CollectorSystem", "GraphSecuritySource",
                .product(name: "FlyingFox", package: "FlyingFox"),
            ]),
        // The configuration language: YAML decoded with line and column for every error.
        .target(
            name: "CollectorConfig",
            dependencies: ["CollectorCore", "CollectorSystem", .product(name: "Yams", package: "Yams")]),
        .target(
            name: "CollectorRuntime",
            dependencies: [
                "CollectorCore", "CollectorSystem", "CollectorConfig", "CollectorSinks", "GraphSecuritySource",
                "GraphSimulator", "NatsClient",
                "CurlTransport", "GzipStream",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .target(
            name: "CollectorTesting",
            dependencies: [
                "CollectorCore", "CollectorConfig",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "graph-collector", dependencies: ["CollectorRuntime"]),

        .testTarget(
            name: "CollectorCoreTests", dependencies: ["CollectorCore", "CollectorSystem", "CollectorTesting"]),
        .testTarget(
            name: "CollectorSinksTests",
            dependencies: [
                "CollectorSinks", "CollectorCore", "CollectorTesting", "EventFormats", "GraphSecuritySource",
                "NatsClient", "TestReceivers", "graph-collector",
            ],
            exclude: ["Golden", "Support/exec_child.sh"]),
        // The fault-injection suite (`make fault-injection`; `make test` runs it small).
        .executableTarget(
            name: "fault-injection",
            dependencies: [
                "CollectorCore", "CollectorTesting", "GraphSecuritySource", "GraphSimulator", "GzipStream",
                "TestReceivers",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/FaultInjection"),
        // The seeded fault-schedule test of the Graph engine (`make fault-schedules`; `make test`
        // runs 200 seeds).
        .executableTarget(
            name: "fault-schedules",
            dependencies: [
                "CollectorCore", "CollectorTesting", "CurlTransport", "GraphSecuritySource", "GraphSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/FaultSchedules"),
        // Benchmarks (release builds; Benchmarks/README.md). `make test` runs each once, tiny.
        .executableTarget(
            name: "graph-collector-bench",
            dependencies: [
                "CollectorCore", "CollectorSinks", "CollectorTesting", "EventFormats", "GraphSecuritySource",
                "GraphSimulator", "TestReceivers",
                .product(name: "FlyingFox", package: "FlyingFox"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/GraphCollectorBench"),
        // Real receivers the tests and the fault-injection suite start on loopback: rsyslog and a
        // Python webhook receiver.
        .target(
            name: "TestReceivers",
            dependencies: ["CollectorCore", "CollectorSinks", "CollectorTesting"],
            path: "Tests/TestReceivers",
            exclude: ["webhook_receiver.py", "nats_stream.py", "nkey.py"]),
        // Fuzz targets (`make fuzz`; `make test` runs each briefly): one harness library, and one
        // binary that is libFuzzer's under -DFUZZING and a replayer otherwise (`make test` replays
        // every committed seed and regression input through its target with it).
        .target(
            name: "FuzzHarnesses",
            dependencies: [
                "CollectorCore", "CollectorConfig", "CollectorRuntime", "CurlTransport", "EventFormats",
                "GraphSecuritySource",
            ],
            path: "Fuzz/Harnesses"),
        .executableTarget(name: "graph-collector-fuzz", dependencies: ["FuzzHarnesses"], path: "Fuzz/Main"),
        .testTarget(
            name: "CurlTransportTests", dependencies: ["CurlTransport", "GraphSecuritySource", "GraphSimulator"]),
        // Validators/ (Python, run by the tests) and Fixtures/ (the reduced ECS definitions) are
        // read from the source tree.
        .testTarget(
            name: "EventFormatsTests",
            dependencies: ["EventFormats", "CollectorCore", "CollectorTesting", "GraphSecuritySource"],
            exclude: ["Validators", "Fixtures", "Golden"]),
        .testTarget(name: "GzipStreamTests", dependencies: ["GzipStream", "CollectorTesting"]),
        .testTarget(
            name: "GraphSecuritySourceTests",
            dependencies: ["GraphSecuritySource", "CollectorCore", "CollectorTesting"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CollectorRuntimeTests",
            dependencies: [
                "CollectorRuntime", "CollectorConfig", "CollectorCore", "CollectorTesting", "CurlTransport",
                "GzipStream",
                "GraphSimulator", "GraphSecuritySource", "TestReceivers", "graph-collector",
            ]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}

// Documentation: `GRAPH_COLLECTOR_DOCS=1 swift package generate-documentation --target CollectorCore`.
// The DocC plugin is added only then, so normal builds and CI never fetch it.
if ProcessInfo.processInfo.environment["GRAPH_COLLECTOR_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}
