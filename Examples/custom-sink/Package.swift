// swift-tools-version:6.2
// A custom sink for graph-collector, in its own package: the `csv-report` sink, a collector
// executable with every built-in plugin plus this one, and tests that run graph-collector's
// sink conformance suite against it.
import PackageDescription

let package = Package(
    name: "custom-sink",
    platforms: [.macOS(.v15)],
    dependencies: [
        // In your own project: .package(url: "https://github.com/<you>/graph-collector", from: "0.1.0")
        .package(name: "graph-collector", path: "../..")
    ],
    targets: [
        .target(
            name: "CSVReportSink",
            dependencies: [.product(name: "CollectorCore", package: "graph-collector")]),
        .executableTarget(
            name: "custom-collector",
            dependencies: [
                "CSVReportSink", .product(name: "CollectorCore", package: "graph-collector"),
                .product(name: "CollectorRuntime", package: "graph-collector"),
            ]),
        .testTarget(
            name: "CSVReportSinkTests",
            dependencies: ["CSVReportSink", .product(name: "CollectorTesting", package: "graph-collector")]),
    ]
)
