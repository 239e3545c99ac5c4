import CollectorCore
import EventFormats

/// Targets for what the sinks write: every encoder, checked by reading its output back.
extension FuzzHarness {
    /// LEEF 1.0 and 2.0 with the input's delimiter and size limit: the output parses, keeps
    /// every essential attribute whole, and fits the limit — or the encoder says it cannot.
    static let leef = FuzzHarness("leef", "LEEFEncoder with a size limit, read back by LEEFParsedEvent") { data in
        guard data.count >= 3 else { return }
        let delimiters: [UInt8] = [
            UInt8(ascii: "^"), UInt8(ascii: "|"), 0x09, UInt8(ascii: ";"), UInt8(ascii: "~"), 0x01,
        ]
        let version: LEEFFormat.Version = data[0] & 0x80 == 0 ? .v2 : .v1
        let format = LEEFFormat(
            version: version, delimiter: delimiters[Int(data[0] & 0x7F) % delimiters.count],
            markTruncation: data[0] & 0x40 == 0)
        // Only formats the configuration accepts (a letter as delimiter is refused there).
        guard format.problems().isEmpty else {
            preconditionFailure("the harness built a format the configuration refuses")
        }
        let limit = 40 + (Int(data[1]) << 4 | Int(data[2] >> 4))
        let event = Event.alert(alert(from: Array(data.dropFirst(3))))
        let encoder = LEEFEncoder(format: format)
        let whole = encoder.encode(event)
        guard let parsedWhole = try? LEEFParsedEvent(parsing: String(decoding: whole.bytes, as: UTF8.self)) else {
            preconditionFailure("unlimited LEEF does not parse")
        }
        let essentials = format.attributes(of: event).filter { $0.importance == 0 }
        for a in essentials { require(parsedWhole[a.key] == a.value, "\(a.key) does not read back") }
        guard let cut = encoder.encode(event, maxBytes: limit) else {
            require(encoder.minimumSize(of: event) > limit, "refused although the essentials fit in \(limit)")
            return
        }
        require(cut.bytes.count <= limit, "\(cut.bytes.count) bytes for a limit of \(limit)")
        guard let parsed = try? LEEFParsedEvent(parsing: String(decoding: cut.bytes, as: UTF8.self)) else {
            preconditionFailure("truncated LEEF does not parse")
        }
        for a in essentials { require(parsed[a.key] == a.value, "truncation changed \(a.key)") }
    }

    /// An alert whose text fields are the input's NUL-separated pieces.
    static func alert(from data: [UInt8]) -> SecurityAlert {
        var pieces = data.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        while pieces.count < 10 { pieces.append("") }
        func text(_ i: Int) -> String? { pieces[i].isEmpty ? nil : pieces[i] }
        let seconds = Int64(data.count) * 86_399
        return SecurityAlert(
            kind: .alertV2, id: pieces[0].isEmpty ? "id" : pieces[0], title: pieces[1], description: text(3),
            severity: Severity(rawValue: pieces[7]), status: pieces[4].isEmpty ? "new" : pieces[4], category: text(2),
            provider: text(5), lastUpdatedAt: Timestamp(nanosecondsSinceEpoch: seconds * 1_000_000_000),
            assignedTo: text(8), tenantId: text(6), webURL: text(9),
            evidence: Evidence(
                ipAddresses: pieces.count > 10 ? [pieces[10]] : [], urls: pieces.count > 11 ? [pieces[11]] : []))
    }
}
