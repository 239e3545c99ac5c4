import CollectorTesting
import Foundation
import Testing

@testable import CollectorRuntime

/// The text log format is logfmt: checked by a parser we did not write (Python's shlex, whose
/// double-quote rules are logfmt's for quotes and backslashes).
@Suite struct LogFormatTests {
    @Test func valuesRoundTripThroughAnIndependentParser() async throws {
        let values = [
            "plain", "two words", "a=b", "say \"hi\"", "back\\slash", "", "ünïcode ✓ 日本", "end\\", "\"",
        ]
        let lines = values.map { "key=" + StderrLogHandler.logfmt($0) }
        let script =
            "import shlex,sys,json; print(json.dumps([shlex.split(l) for l in sys.stdin.read().split('\\n')[:-1]]))"
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = try dir.write("lines.txt", lines.joined(separator: "\n") + "\n")
        let parsed = try await CollectorProcess.runTool("/bin/sh", ["-c", "python3 -c \"$0\" < \"$1\"", script, input])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let words = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [[String]])
        #expect(words == values.map { ["key=" + $0] }, "\(lines)")
    }

    @Test func aRecordIsOneLineWhateverItsValuesHold() {
        let value = StderrLogHandler.logfmt("line one\nline two\r\tand \u{1}")
        #expect(!value.contains("\n") && !value.contains("\r") && !value.contains("\t"))
        #expect(value == #""line one\nline two\r\tand \u0001""#)
        #expect(StderrLogHandler.logfmtKey("tenant id=x") == "tenant_id_x")
    }
}
