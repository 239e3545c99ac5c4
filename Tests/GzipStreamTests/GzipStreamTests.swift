import CollectorTesting
import Foundation
import GzipStream
import Testing

@Suite struct GzipStreamTests {
    @Test func membersPassGzipAndZcat() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let encoder = try GzipEncoder(level: 6)
        var bytes: [UInt8] = []
        var expected = ""
        for i in 0..<3 {
            let line = String(repeating: "event \(i) ", count: 500) + "\n"
            expected += line
            bytes += try encoder.compress(Array(line.utf8))
            bytes += try encoder.finish()
        }
        try Data(bytes).write(to: URL(fileURLWithPath: dir.file("a.gz")))
        let test = try await CollectorProcess.runTool("/usr/bin/env", ["gzip", "-t", dir.file("a.gz")])
        #expect(test.status == 0, "\(test.stderr)")
        let cat = try await CollectorProcess.runTool("/usr/bin/env", ["zcat", dir.file("a.gz")])
        #expect(cat.stdout == expected)
        #expect(String(decoding: try GzipDecoder.decompress(bytes), as: UTF8.self) == expected)
        // A truncated member is an error, not silent loss.
        #expect(throws: GzipError.self) { _ = try GzipDecoder.decompress(Array(bytes.dropLast(10))) }
    }
}
