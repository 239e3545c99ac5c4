import CollectorCore
import CollectorTesting
import EventFormats
import Foundation
import Testing

/// CEF read back by two parsers: a strict one written from the guide, and cefp from PyPI.
@Suite struct CEFEncoderTests {
    let encoder = CEFEncoder()

    func line(_ event: Event) -> String {
        var out: [UInt8] = []
        encoder.encode(event, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Text as a parser must find it: control characters other than newline and carriage return
    /// become spaces (the guide has no escape for them).
    static func clean(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.map { c in (c.value < 0x20 && c != "\n" && c != "\r") || c.value == 0x7F ? " " : c }))
    }

    /// The pairs before escaping, with their labels.
    func expectedPairs(_ event: Event) -> [String: String] {
        var pairs: [String: String] = [:]
        for pair in encoder.format.pairs(of: event) {
            pairs[pair.key] = Self.clean(pair.value)
            if let label = pair.label { pairs[pair.key + "Label"] = Self.clean(label) }
        }
        return pairs
    }

    @Test func everyEventReadsBackExactlyWithAStrictParserFromTheGuide() throws {
        for event in try FormatSamples.events(alerts: 300) {
            let text = line(event)
            let parsed = try StrictCEFParser.parse(text)
            #expect(parsed.pairs == expectedPairs(event), "\(text)")
            #expect(parsed.header[0..<3] == ["graph-collector", "Microsoft Graph Security", "1.0"])
            if case .alert(let a) = event {
                let name = Self.clean(a.title.isEmpty ? "(untitled)" : a.title).replacingOccurrences(
                    of: "\n", with: " "
                )
                .replacingOccurrences(of: "\r", with: " ")
                #expect(parsed.header[4] == name, "the name, unescaped: \(text)")
                #expect(parsed.header[5] == String(CEFFormat.defaultSeverityMap[a.severity.rawValue] ?? 0))
            }
        }
    }

    @Test func theNastiestValuesAreEscapedAsTheGuideSays() throws {
        let text = line(TrickyEvents.alert(3))
        #expect(text.hasPrefix("CEF:0|graph-collector|Microsoft Graph Security|1.0|"))
        #expect(!text.contains("\n") && !text.contains("\r") && !text.contains("\t"))
        // In the header a pipe is \| and a backslash \\; in values = is \= and a newline \n.
        #expect(text.contains("a\\|b=c\\\\d e"), "header escaping: \(text)")
        #expect(text.contains("a|b\\=c\\\\d e\\nf\\rg^h"), "value escaping: \(text)")
        #expect(text.contains("日本語 ü 🚨"), "non-ASCII text stays UTF-8")
    }

    @Test func cefpFromPyPIReadsEveryEventAsTheStrictParserDoes() async throws {
        let events = try FormatSamples.events(alerts: 500)
        let lines = events.map { Array(line($0).utf8) }
        let result = try await FormatSamples.validate("cef_parse.py", [], lines: lines)
        #expect(result.status == 0, "\(result.stderr.prefix(2000))")
        let parsed = result.stdout.split(separator: "\n")
        #expect(parsed.count == events.count)
        for (event, json) in zip(events, parsed) {
            let theirs = try JSONParser.parse(String(json))
            let ours = try StrictCEFParser.parse(line(event))
            let header = ["vendor", "product", "version", "signature", "name", "severity"].map {
                theirs[$0]?.stringValue ?? ""
            }
            #expect(header == ours.header, "\(json)")
            var pairs: [String: String] = [:]
            if case .object(let members)? = theirs["extension"] {
                for (key, value) in members { pairs[key] = value.stringValue }
            }
            #expect(pairs == ours.pairs, "\(json)")
        }
    }

    @Test func aLimitDropsTheLeastImportantPairsFirstAndSaysSo() throws {
        let event = TrickyEvents.alert(1, descriptionLength: 3000)
        var full: [UInt8] = []
        _ = encoder.encode(event, maxBytes: nil, appendingTo: &full)
        var cut: [UInt8] = []
        let dropped = try #require(encoder.encode(event, maxBytes: 900, appendingTo: &cut))
        #expect(dropped > 0 && cut.count <= 900 && full.count > 900)
        let parsed = try StrictCEFParser.parse(String(decoding: cut, as: UTF8.self))
        #expect(parsed.pairs["rt"] != nil && parsed.pairs["cat"] != nil, "essentials stay")
        #expect(parsed.pairs["msg"] == nil, "the long description goes first")
        #expect(parsed.pairs["cn3"] == String(dropped) && parsed.pairs["cn3Label"] == "truncatedPairs")
        var none: [UInt8] = []
        #expect(encoder.encode(event, maxBytes: 40, appendingTo: &none) == nil && none.isEmpty)
    }

    @Test func configurationProblemsAreNamed() {
        let format = CEFFormat(severityMap: ["high": 11], fieldKeys: [.tenantId: "tenant id", .provider: "cs3"])
        let problems = format.problems()
        #expect(problems.contains { $0.contains("11 is not between 0 and 10") })
        #expect(problems.contains { $0.contains("'tenant id' is not a CEF key") })
        #expect(problems.contains { $0.contains("'cs3' is also used") })
    }
}
