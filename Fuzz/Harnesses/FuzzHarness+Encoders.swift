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

extension FuzzHarness {
    /// CEF with the input's size limit, OCSF (each version) and ECS: CEF is one line with its
    /// seven header fields and fits the limit (or the encoder says it cannot); OCSF and ECS are
    /// JSON with no null anywhere.
    static let formats = FuzzHarness("formats", "CEF with a size limit, OCSF and ECS on arbitrary alerts") { data in
        guard data.count >= 3 else { return }
        let event = Event.alert(alert(from: Array(data.dropFirst(3))))
        let limit = 40 + (Int(data[1]) << 4 | Int(data[2] >> 4))
        let cef = CEFEncoder()
        var line: [UInt8] = []
        if let dropped = cef.encode(event, maxBytes: data[0] & 1 == 0 ? limit : nil, appendingTo: &line) {
            require(dropped >= 0 && line.starts(with: Array("CEF:0|".utf8)), "CEF does not start with CEF:0|")
            require(!line.contains { $0 < 0x20 || $0 == 0x7F }, "a raw control character in CEF")
            if data[0] & 1 == 0 { require(line.count <= limit, "\(line.count) bytes for a limit of \(limit)") }
            var pipes = 0
            var escaped = false
            for byte in line {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "|") {
                    pipes += 1
                }
            }
            require(pipes >= 7, "the CEF header has \(pipes) separators")
        } else {
            require(cef.minimumSize(of: event) > limit, "CEF refused although the essentials fit in \(limit)")
        }
        let versions = OCSFFormat.Version.allCases
        let encoders: [any EventEncoding] = [
            OCSFEncoder(format: OCSFFormat(version: versions[Int(data[0] >> 1) % versions.count], includeRaw: true)),
            ECSEncoder(),
        ]
        for encoder in encoders {
            var out: [UInt8] = []
            encoder.encode(event, into: &out)
            guard let document = try? JSONParser.parse(String(decoding: out, as: UTF8.self)) else {
                preconditionFailure("\(type(of: encoder)) wrote something that is not JSON")
            }
            require(!containsNull(document), "\(type(of: encoder)) wrote a null")
        }
    }

    static func containsNull(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return true
        case .array(let items): return items.contains(where: containsNull)
        case .object(let members): return members.contains { containsNull($0.1) }
        default: return false
        }
    }
}
