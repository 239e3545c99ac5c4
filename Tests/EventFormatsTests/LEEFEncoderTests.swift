import CollectorCore
import CollectorTesting
import EventFormats
import Foundation
import Testing

let fixedTime = Timestamp(nanosecondsSinceEpoch: 1_763_900_000_123_000_000)  // 2025-11-23T12:13:20.123Z

/// A LEEF header field as the encoder writes it: control characters become spaces.
func headerText(_ s: String) -> String {
    String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
}

/// The LEEF encoder and the date formats on their own (the syslog messages around them are
/// tested with golden files in CollectorSinksTests).
@Suite struct LEEFEncoderTests {
    @Test func everyValueRoundTripsThroughTheEscaping() throws {
        for (version, delimiter) in [
            (LEEFFormat.Version.v2, UInt8(ascii: "^")), (.v2, 0x09), (.v2, UInt8(ascii: "|")), (.v1, 0x09),
        ] {
            let format = LEEFFormat(version: version, delimiter: delimiter)
            let encoder = LEEFEncoder(format: format)
            for n in 0..<20 {
                let event = TrickyEvents.alert(n)
                let bytes = encoder.encode(event).bytes
                #expect(!bytes.contains(0x0A) && !bytes.contains(0x0D))
                let parsed = try LEEFParsedEvent(parsing: String(decoding: bytes, as: UTF8.self))
                let expected = format.attributes(of: event)
                #expect(parsed.attributes.map(\.key) == expected.map(\.key))
                #expect(parsed.attributes.map(\.value) == expected.map(\.value))
                #expect(parsed.eventID == headerText(event.alert!.title))
                #expect(parsed.vendor == "graph-collector" && parsed.product == "Microsoft Graph Security")
                #expect(parsed.delimiter == format.delimiter)
            }
        }
    }

    /// The encoder writes attributes straight into its output; it must write exactly what
    /// `attributes(of:)` lists, escaped and joined, whatever the delimiter and the date format
    /// (an empty pattern gives an empty time, which is left out with its pattern).
    @Test func theDirectWriterWritesExactlyTheListedAttributes() throws {
        for delimiter in [UInt8(ascii: "^"), UInt8(ascii: ","), UInt8(ascii: "-"), UInt8(ascii: ":"), 0x09] {
            for pattern in [nil, "", "yyyy-MM-dd'T'HH:mm:ss.SSS"] {
                var format = LEEFFormat(delimiter: delimiter)
                format.devTimeFormat = try pattern.map { try JavaDateFormat($0) }
                let encoder = LEEFEncoder(format: format)
                for n in 0..<20 {
                    let event = TrickyEvents.alert(n)
                    let pairs = format.attributes(of: event).map { LEEFEncoder.encodedPair($0, delimiter: delimiter) }
                    let expected = encoder.header(for: event) + Array(pairs.joined(separator: [delimiter]))
                    #expect(
                        encoder.encode(event).bytes == expected,
                        "delimiter \(delimiter), pattern \(pattern ?? "none"), alert \(n)")
                }
            }
        }
    }

    @Test func headerFieldsEscapePipesAndBackslashesAndKeepEventIDsShort() throws {
        var format = LEEFFormat(vendor: "Ven|dor\\", product: "Pro\nduct")
        format.alertEventID = try EventIDTemplate("{title}")
        let longTitle = String(repeating: "é", count: 400)
        let event = Event.alert(SecurityAlert(kind: .alertV2, id: "x", title: longTitle))
        let header = String(decoding: LEEFEncoder(format: format).header(for: event), as: UTF8.self)
        #expect(header.hasPrefix("LEEF:2.0|Ven\\|dor\\\\|Pro duct|1.0|"))
        let parsed = try LEEFParsedEvent(parsing: header)
        #expect(parsed.vendor == "Ven|dor\\")
        #expect(parsed.eventID.count == 255)
    }

    @Test func tooLongEventsLoseTheLeastImportantAttributesFirstAndNeverTheHeader() throws {
        let format = LEEFFormat()
        let encoder = LEEFEncoder(format: format)
        let event = TrickyEvents.alert(5, descriptionLength: 20_000)
        let full = encoder.encode(event)
        #expect(!full.wasTruncated && full.bytes.count > 20_000)
        for limit in [600, 1000, 1500, 2048, 4096] {
            let cut = try #require(encoder.encode(event, maxBytes: limit))
            #expect(cut.wasTruncated)
            #expect(cut.bytes.count <= limit, "limit \(limit): \(cut.bytes.count)")
            // Valid UTF-8 and LEEF:
            let parsed = try LEEFParsedEvent(parsing: String(decoding: cut.bytes, as: UTF8.self))
            #expect(parsed.eventID == headerText(event.alert!.title))
            let whole = try LEEFParsedEvent(parsing: String(decoding: full.bytes, as: UTF8.self))
            for key in ["devTime", "sev", "cat", "alertId"] {
                #expect(parsed[key] == whole[key], "limit \(limit) changed \(key)")
            }
            #expect(parsed["description"] == nil)  // the least important goes first
            #expect(Int(parsed["truncated"] ?? "") == cut.truncatedAttributes)
        }
    }

    /// Fuzzing found essentials cut to one character (`devTime=17`: a wrong time, not a missing
    /// one) and results longer than the limit when the header was near it. Essentials stay whole;
    /// an event whose essentials cannot fit is reported as such.
    @Test func essentialsAreNeverCutAndAnEventThatCannotFitIsReported() throws {
        let encoder = LEEFEncoder(format: LEEFFormat())
        let longID = Event.alert(SecurityAlert(kind: .alertV2, id: String(repeating: "é", count: 500), title: "t"))
        #expect(encoder.encode(longID, maxBytes: 300) == nil)
        #expect(encoder.minimumSize(of: longID) > 1000)
        var out: [UInt8] = Array("prefix".utf8)
        #expect(encoder.encode(longID, maxBytes: 300, appendingTo: &out) == nil)
        #expect(out == Array("prefix".utf8))
        let event = TrickyEvents.alert(5, descriptionLength: 3000)
        let whole = try LEEFParsedEvent(parsing: String(decoding: encoder.encode(event).bytes, as: UTF8.self))
        let minimum = encoder.minimumSize(of: event)
        for limit in stride(from: minimum - 40, through: minimum + 400, by: 7) {
            guard let cut = encoder.encode(event, maxBytes: limit) else {
                #expect(limit < minimum, "limit \(limit) ≥ minimum \(minimum) but not encoded")
                continue
            }
            #expect(cut.bytes.count <= limit, "limit \(limit): \(cut.bytes.count)")
            let parsed = try LEEFParsedEvent(parsing: String(decoding: cut.bytes, as: UTF8.self))
            for key in ["devTime", "sev", "cat", "alertId"] {
                #expect(parsed[key] == whole[key], "limit \(limit) changed \(key)")
            }
        }
    }

    @Test func javaDateFormatsRenderInUTC() throws {
        #expect(try JavaDateFormat("MMM dd yyyy HH:mm:ss.SSS z").format(fixedTime) == "Nov 23 2025 12:13:20.123 UTC")
        #expect(try JavaDateFormat("yyyy-MM-dd'T'HH:mm:ssX").format(fixedTime) == "2025-11-23T12:13:20Z")
        #expect(throws: FormatError.self) { try JavaDateFormat("yyyy-MM-dd EEE") }
        #expect(try JavaDateFormat("HH 'o''clock'").format(fixedTime) == "12 o'clock")
    }
}
