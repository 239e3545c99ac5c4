import CollectorCore
import CollectorTesting
import Foundation
import Testing

@Suite struct RawJSONTests {
    @Test func keepsTheCompactTextAndReadsMembersWithoutParsingTheRest() throws {
        let text = #"{ "a" : [1, {"x":"}"}], "s":"q\"uo\\te{", "d":{"e":null}, "a":2, "n":-1.50e3, "t":true }"#
        let raw = RawJSON(try JSONParser.parse(text))
        #expect(raw.description == #"{"a":[1,{"x":"}"}],"s":"q\"uo\\te{","d":{"e":null},"a":2,"n":-1.50e3,"t":true}"#)
        #expect(raw.member("a") == [1, ["x": "}"]])
        #expect(raw.member("s") == "q\"uo\\te{")
        #expect(raw.member("d") == ["e": nil])
        #expect(raw.member("n") == .number("-1.50e3"))
        #expect(raw.member("t") == true)
        #expect(raw.member("missing") == nil)
        #expect(RawJSON(.array([1, 2])).member("a") == nil)
        #expect(RawJSON.null.member("a") == nil && RawJSON.null.isNull && !raw.isNull)
        #expect(raw.value == (try JSONParser.parse(text)))
        // As long as its text, up to malloc's rounding (a writer's buffer grows by doubling).
        let long = RawJSON(.array((0..<700).map { .string("value \($0)") }))
        #expect(long.bytes.count > 5000 && long.bytes.capacity < long.bytes.count + 64)
    }

    /// `member` finds what a full parse finds, for every member of random documents.
    @Test func memberAgreesWithAFullParse() {
        var (random, seed) = SeededRandom.forTest("RawJSONTests", replayWith: "RAW_JSON_SEED")
        for _ in 0..<300 {
            let document = Self.object(depth: 0, using: &random)
            let raw = RawJSON(document)
            for (key, _) in document.objectMembers ?? [] {
                #expect(raw.member(key) == document[key], "seed \(seed): member \(key) of \(raw)")
            }
            #expect(raw.value == document, "seed \(seed)")
        }
    }

    @Test func anEventWritesTheSameJSONAsItsTree() throws {
        for event in (0..<12).map({ TrickyEvents.alert($0) }) + SampleEvents.alerts(0..<5) + [
            SampleEvents.providerWarning()
        ] {
            var writer = JSONWriter()
            event.writeJSON(into: &writer)
            #expect(writer.bytes == Array(JSONWriter.string(event.jsonValue).utf8))
            #expect(try Event(json: JSONParser.parse(bytes: writer.bytes)) == event)
        }
    }

    /// A page's items written compactly are kept as their slices of the body; written another
    /// way (spaces, `\/` for `/`) they become the same compact text as their tree's.
    @Test func aPageKeepsCompactItemsAsSlicesOfItsBody() throws {
        var (random, seed) = SeededRandom.forTest("RawJSONTests.page", replayWith: "RAW_JSON_SEED")
        let documents = (0..<60).map { _ in Self.object(depth: 0, using: &random) }
        let compact =
            #"{"@odata.context":"x","value":["#
            + documents.map { RawJSON($0).description }.joined(separator: ",") + #"],"@odata.nextLink":"n"}"#
        let spelledOtherwise = #"{ "value" : [ "# + documents.map(Self.spaced).joined(separator: " , ") + " ] }"
        for (text, sliced) in [(compact, true), (spelledOtherwise, false)] {
            let (object, items) = try JSONParser.parse(bytes: Array(text.utf8), keepingElementsAsTextOf: "value")
            #expect(object["value"] == .array([]) && items?.count == documents.count, "seed \(seed)")
            for (item, document) in zip(items ?? [], documents) {
                #expect(item == RawJSON(document) && item.value == document, "seed \(seed): \(item)")
                // A slice starts where the item sat in the body; a copy starts at 0.
                #expect((item.bytes.startIndex > 0) == sliced, "seed \(seed): \(item)")
            }
        }
    }

    /// A page mostly spelled otherwise is copied whole (a few slices would keep its body alive
    /// beside the copies); a page mostly compact keeps its slices beside a few copies.
    @Test func aPageMostlySpelledOtherwiseIsCopiedWhole() throws {
        let documents: [JSONValue] = (0..<10).map { ["n": .number(String($0)), "s": "abcdefghijklmnop"] }
        for compactOnes in [2, 8] {
            let texts = documents.enumerated().map { i, d in i < compactOnes ? RawJSON(d).description : Self.spaced(d) }
            let body = Array((#"{"value":["# + texts.joined(separator: ",") + "]}").utf8)
            let items = try #require(JSONParser.parse(bytes: body, keepingElementsAsTextOf: "value").elements)
            #expect(items == documents.map { RawJSON($0) })
            #expect(items.filter(\.sharesABuffer).count == (compactOnes == 8 ? 8 : 0), "\(compactOnes) compact")
        }
    }

    /// `value` as another JSON writer might put it: spaces around every `:` and `,`, `/` escaped.
    static func spaced(_ value: JSONValue) -> String {
        switch value {
        case .object(let members):
            return "{ " + members.map { spaced(.string($0.0)) + " : " + spaced($0.1) }.joined(separator: " , ") + " }"
        case .array(let elements): return "[ " + elements.map(spaced).joined(separator: " , ") + " ]"
        case .string: return JSONWriter.string(value).replacingOccurrences(of: "/", with: "\\/")
        default: return JSONWriter.string(value)
        }
    }

    static let keys = ["a", "id", "é", "q\"k", "b\\", "detectorId", "x y", ""]

    static func object(depth: Int, using random: inout SeededRandom) -> JSONValue {
        .object(
            (0..<Int.random(in: 0...6, using: &random)).map { _ in
                (keys.randomElement(using: &random)!, value(depth: depth + 1, using: &random))
            })
    }

    static func value(depth: Int, using random: inout SeededRandom) -> JSONValue {
        switch Int.random(in: 0...(depth > 3 ? 4 : 6), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(["0", "-1.50", "3e-7", "123456789012345678901234567890"].randomElement(using: &random)!)
        case 3, 4:
            return .string(
                String(
                    (0..<Int.random(in: 0...8, using: &random)).map { _ in
                        ["a", "\"", "\\", "}", "]", ",", ":", "\n", "é", "😀", "\u{1}", "/"].randomElement(
                            using: &random)!
                    }.joined()))
        case 5:
            return .array(
                (0..<Int.random(in: 0...4, using: &random)).map { _ in value(depth: depth + 1, using: &random) })
        default: return object(depth: depth, using: &random)
        }
    }
}
