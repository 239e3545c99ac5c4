import CollectorCore
import Testing

@Suite struct JSONParserTests {
    @Test func keepsNumbersAsWrittenAndMembersInOrder() throws {
        let text =
            #"{"b":1.10,"a":-3e5,"big":123456789012345678901234567890,"s":"x\u00e9\n\ud83d\ude00","n":null,"t":[true,false]}"#
        let value = try JSONParser.parse(text)
        #expect(value["b"] == .number("1.10"))
        #expect(value["big"] == .number("123456789012345678901234567890"))
        #expect(value["s"] == .string("xé\n😀"))
        #expect(value.objectMembers?.map(\.0) == ["b", "a", "big", "s", "n", "t"])
        // Writing gives back the same text, digit for digit.
        #expect(
            JSONWriter.string(value)
                == #"{"b":1.10,"a":-3e5,"big":123456789012345678901234567890,"s":"xé\n😀","n":null,"t":[true,false]}"#)
    }

    @Test(arguments: [
        (#"{"value":[{"id":"1"},{"id":"#, "unexpected end of input", 1),
        ("{\"a\":1,\n\"b\":tru}", "invalid literal", 2),
        (#"{"a":1}}"#, "unexpected text after", 1),
        (#"{"a":"\x"}"#, "invalid escape", 1),
        (#"[1,]"#, "unexpected character", 1),
    ])
    func reportsWhereTheProblemIs(text: String, message: String, line: Int) {
        #expect {
            _ = try JSONParser.parse(text)
        } throws: { error in
            guard let e = error as? JSONParseError else { return false }
            return e.message.contains(message) && e.line == line && e.offset <= text.utf8.count
        }
    }

    @Test func rejectsInvalidUTF8AndControlCharacters() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: [0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse("\"a\u{01}b\"") }
    }

    @Test func escapesControlCharactersWhenWriting() throws {
        let s = JSONWriter.string(.string("tab\there \"q\" \\ \u{07}"))
        #expect(s == #""tab\there \"q\" \\ \u0007""#)
        #expect(try JSONParser.parse(s) == .string("tab\there \"q\" \\ \u{07}"))
    }
}

@Suite struct TimestampTests {
    @Test func parsesGraphTimesWithSevenDigits() throws {
        let t = try #require(Timestamp(iso8601: "2021-04-27T12:19:27.7211305Z"))
        #expect(t.iso8601() == "2021-04-27T12:19:27.7211305Z")
        #expect(t.nanosecondsSinceEpoch % 1_000_000_000 == 721_130_500)
        #expect(t.iso8601(fractionDigits: 3) == "2021-04-27T12:19:27.721Z")
        #expect(t.iso8601(fractionDigits: 0) == "2021-04-27T12:19:27Z")
        #expect(t.iso8601(fractionDigits: 9) == "2021-04-27T12:19:27.721130500Z")
        #expect(Timestamp(nanosecondsSinceEpoch: 5).iso8601(fractionDigits: 9) == "1970-01-01T00:00:00.000000005Z")
        #expect(Timestamp(nanosecondsSinceEpoch: -1).iso8601(fractionDigits: 3) == "1969-12-31T23:59:59.999Z")
    }

    @Test func handlesOffsetsAndRejectsNonsense() throws {
        let a = try #require(Timestamp(iso8601: "2026-11-23T10:00:00+02:00"))
        let b = try #require(Timestamp(iso8601: "2026-11-23T08:00:00Z"))
        #expect(a == b)
        #expect(Timestamp(iso8601: "2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp(iso8601: "yesterday") == nil)
        #expect(Timestamp(iso8601: "2026-11-23T08:00:00") == nil)
        #expect(Timestamp(iso8601: "1969-12-31T23:59:59Z")?.secondsSinceEpoch == -1)
    }
}

@Suite struct EventJSONTests {
    @Test func roundTripsEveryEventKind() throws {
        let events = SampleEventsCore.all
        for event in events {
            let text = JSONWriter.string(event.jsonValue)
            let back = try Event(json: try JSONParser.parse(text))
            #expect(back == event, "\(text)")
        }
    }

    @Test func namesTheMissingField() {
        #expect {
            _ = try Event(json: ["event_type": "alert", "kind": "alert_v2"])
        } throws: { ($0 as? EventDecodingError)?.field == "id" }
    }
}

enum SampleEventsCore {
    static var all: [Event] {
        let t = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_123_456_700)
        return [
            .alert(
                SecurityAlert(
                    kind: .alertV1, id: "x", title: "t", severity: .high, status: "newAlert", createdAt: t,
                    lastUpdatedAt: t, tenantId: "ten", mitreTechniques: ["T1"],
                    evidence: Evidence(
                        hosts: [.init(name: "h", ipAddresses: ["1.1.1.1"])], users: [.init(accountName: "u")],
                        ipAddresses: ["2.2.2.2"], urls: ["https://x"], files: [.init(name: "f", sha1: "s1", size: 3)],
                        processes: [.init(processId: 4, commandLine: "c")]),
                    raw: ["id": "x", "n": .number("1.50")])),
            .providerWarning(
                ProviderWarning(
                    vendor: "Microsoft", provider: "IPC", httpStatus: 504, latencyMilliseconds: 10000,
                    query: "/v1.0/security/alerts", endpoint: "alerts", tenantId: nil, observedAt: t,
                    diagnosis: "d", isPersistent: false, rawItem: "199 - \"Microsoft/IPC/504/10000\"")),
            .health(
                CollectorHealth(
                    component: "source:x", level: .error, code: "c", message: "m", details: ["k": "v"], observedAt: t)),
        ]
    }
}
