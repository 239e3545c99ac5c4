import CollectorCore
import EventFormats
import Foundation
import GraphSecuritySource
import GraphSimulator
import TestReceivers

/// 1. Graph pages (1000 alerts, the simulator's realistic v1 and v2 bodies) decoded and
/// normalized, against parsing the same bytes alone: our parser, Foundation's JSONSerialization,
/// and Python's json (and orjson when installed). Also the whole path to LEEF bytes.
enum DecodeBenchmark {
    static func run(iterations: Int) async throws {
        var c = SimulatorConfiguration()
        c.alertsV2 = 1000
        c.alertsV1 = 1000
        c.incidents = 0
        let simulator = GraphSimulator(configuration: c)
        let encoder = LEEFEncoder(format: LEEFFormat())
        var rows: [Row] = []
        for (label, endpoint) in [("v2", GraphEndpoint.alertsV2), ("v1", .alerts)] {
            let page = await simulator.samplePage(endpoint, count: 1000)
            let items = try JSONParser.parse(bytes: page)["value"]?.arrayValue?.count ?? 0
            guard items == 1000 else { throw BenchError("the simulator gave \(items) \(label) alerts, not 1000") }
            let events = items * iterations
            let bytes = page.count * iterations
            let perAlert = page.count / items

            var normalized = 0
            let decode = try await Measurement.of {
                for _ in 0..<iterations {
                    let json = try JSONParser.parse(bytes: page)
                    for item in json["value"]?.arrayValue ?? [] {
                        _ = try GraphNormalizer.normalize(item, endpoint: endpoint)
                        normalized += 1
                    }
                }
            }
            guard normalized == events else { throw BenchError("normalized \(normalized) of \(events)") }
            rows.append(
                Row(
                    name: "\(label): parse + normalize (graph-collector)", events: events, bytes: bytes,
                    wall: decode.wall, cpu: decode.cpu,
                    peakRSS: decode.peakRSS, note: "\(perAlert) B/alert"))

            var leefBytes = 0
            let toLEEF = try await Measurement.of {
                for _ in 0..<iterations {
                    let json = try JSONParser.parse(bytes: page)
                    for item in json["value"]?.arrayValue ?? [] {
                        leefBytes +=
                            encoder.encode(.alert(try GraphNormalizer.normalize(item, endpoint: endpoint))).bytes.count
                    }
                }
            }
            rows.append(
                Row(
                    name: "\(label): parse + normalize + LEEF encode", events: events, bytes: bytes, wall: toLEEF.wall,
                    cpu: toLEEF.cpu,
                    peakRSS: toLEEF.peakRSS, note: "\(leefBytes / max(events, 1)) B of LEEF/alert"))

            let parse = try await Measurement.of {
                for _ in 0..<iterations { _ = try JSONParser.parse(bytes: page) }
            }
            rows.append(
                Row(
                    name: "\(label): parse only (graph-collector JSONParser)", events: events, bytes: bytes,
                    wall: parse.wall, cpu: parse.cpu,
                    peakRSS: parse.peakRSS))

            let data = Data(page)
            let foundation = try await Measurement.of {
                for _ in 0..<iterations { _ = try JSONSerialization.jsonObject(with: data) }
            }
            rows.append(
                Row(
                    name: "\(label): parse only (Foundation JSONSerialization)", events: events, bytes: bytes,
                    wall: foundation.wall,
                    cpu: foundation.cpu, peakRSS: foundation.peakRSS))

            rows += try pythonReferences(page: data, label: label, iterations: iterations, events: events)
        }
        printTable("1. Decode + normalize Graph pages (1000 alerts per page, \(iterations) passes)", rows)
    }

    /// The same parse in Python's json (the reference) and orjson (when installed).
    static func pythonReferences(page data: Data, label: String, iterations: Int, events: Int) throws -> [Row] {
        let bytes = data.count * iterations
        var rows: [Row] = []
        let file = NSTemporaryDirectory() + "bench-page-\(label)-\(getpid()).json"
        try data.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        for module in ["json", "orjson"] {
            let script =
                "import \(module),time,sys; b=open(sys.argv[1],'rb').read(); t=time.perf_counter(); "
                + "[\(module).loads(b) for _ in range(\(iterations))]; print(time.perf_counter()-t)"
            let r = shell("python3 -c \"\(script)\" \(file)")
            guard r.status == 0, let seconds = Double(r.output.trimmingCharacters(in: .whitespacesAndNewlines))
            else {
                if module == "json" { throw BenchError("python3 json failed: \(r.output)") }
                rows.append(
                    Row(
                        name: "\(label): parse only (Python \(module).loads)", events: 0, bytes: 0, wall: 1,
                        note: "not installed"))
                continue
            }
            rows.append(
                Row(
                    name: "\(label): parse only (Python \(module).loads)", events: events, bytes: bytes,
                    wall: seconds, cpu: seconds,
                    note: "reference"))
        }
        return rows
    }
}
