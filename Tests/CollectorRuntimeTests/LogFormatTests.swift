import CollectorTesting
import Foundation
import Testing

@testable import CollectorRuntime

/// The text log format is logfmt: quoted values are checked by a decoder we did not write
/// (Python's json: logfmt's escapes are JSON's).
@Suite struct LogFormatTests {
    @Test func valuesRoundTripThroughAnIndependentParser() async throws {
        let values = [
            "plain", "two words", "a=b", "say \"hi\"", "back\\slash", "", "ünïcode ✓ 日本", "end\\", "\"",
            "line\nbreak", "tab\tand\rreturn", "bell\u{7}", "nel\u{85}", "sep\u{2028}arator",
        ]
        let lines = values.map { "key=" + StderrLogHandler.logfmt($0) }
        // Split each line at its first '=', then a quoted value is a JSON string: Python's json
        // decodes it (it knows nothing of our escaping code).
        let script =
            "import sys,json\nfor l in sys.stdin.read().split('\\n')[:-1]:\n k,v=l.split('=',1)\n"
            + " print(json.dumps(json.loads(v) if v.startswith('\"') else v))"
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let input = try dir.write("lines.txt", lines.joined(separator: "\n") + "\n")
        let parsed = try await CollectorProcess.runTool("/bin/sh", ["-c", "python3 -c \"$0\" < \"$1\"", script, input])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let decoded = try parsed.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) as? String)
        }
        #expect(decoded == values, "\(lines)")
        let lineBreaking: Set<UInt32> = [0x0A, 0x0D, 0x85, 0x2028, 0x2029]
        #expect(lines.allSatisfy { $0.unicodeScalars.allSatisfy { !lineBreaking.contains($0.value) } })
    }

    @Test func metadataNeverRepeatsAKey() {
        let pairs = StderrLogHandler.uniqueKeys(
            ["msg": "m", "a b": "1", "a_b": "2", "level": "x"], reserved: ["time", "level", "logger", "msg"],
            clean: StderrLogHandler.logfmtKey)
        let keys = pairs.map(\.0)
        #expect(Set(keys).count == keys.count && !keys.contains("msg") && !keys.contains("level"), "\(keys)")
        #expect(keys == ["a_b", "metadata.a_b", "metadata.level", "metadata.msg"], "\(keys)")
    }

    @Test func aRecordIsOneLineWhateverItsValuesHold() {
        let value = StderrLogHandler.logfmt("line one\nline two\r\tand \u{1}")
        #expect(!value.contains("\n") && !value.contains("\r") && !value.contains("\t"))
        #expect(value == #""line one\nline two\r\tand \u0001""#)
        #expect(StderrLogHandler.logfmtKey("tenant id=x") == "tenant_id_x")
    }
}
