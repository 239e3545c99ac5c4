import CollectorCore
public import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Writes log lines to standard error: logfmt by default (`time=… level=info logger=… msg="…"
/// key=value`, readable and parsed by Loki, Vector, Splunk and the like), or one JSON object per
/// line. Either way one record is one line: newlines and quotes in values are escaped. Lines are
/// written with one `write(2)` each, so concurrent messages never interleave.
public struct StderrLogHandler: LogHandler {
    public enum Format: Sendable { case text, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level = .info, format: Format = .text) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = Timestamp.now().iso8601(fractionDigits: 3)
        var line: String
        switch format {
        case .text:
            line = "time=\(time) level=\(event.level.rawValue) logger=\(Self.logfmt(label))"
            line += " msg=" + Self.logfmt("\(event.message)")
            for (key, value) in Self.uniqueKeys(
                merged, reserved: ["time", "level", "logger", "msg"], clean: Self.logfmtKey)
            {
                line += " \(key)=" + Self.logfmt(value)
            }
        case .json:
            var members: [(String, JSONValue)] = [
                ("time", .string(time)), ("level", .string(event.level.rawValue)), ("label", .string(label)),
                ("message", .string("\(event.message)")),
            ]
            for (key, value) in Self.uniqueKeys(merged, reserved: ["time", "level", "label", "message"], clean: { $0 })
            {
                members.append((key, .string(value)))
            }
            line = JSONWriter.string(.object(members))
        }
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { if errno == EINTR { continue } else { break } }
                offset += n
            }
        }
    }
}

extension StderrLogHandler {
    /// A logfmt value: bare when it is a plain word, else quoted with `\\`, `\"`, `\n`, `\r`,
    /// `\t` and `\u00XX` escapes, so a record never spans lines.
    static func logfmt(_ text: String) -> String {
        let plain =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0 != "=" && $0 != "\"" && $0 != "\\" && !(0x7F...0x9F).contains($0.value)
                    && $0.value != 0x2028 && $0.value != 0x2029
            }
        guard !plain else { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // C0 and C1 controls, NEL and the Unicode line and paragraph separators: some
                // readers break lines on them.
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                    || scalar.value == 0x2029
                {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// The metadata as (key, text) pairs, sorted, with every key distinct from the fixed fields
    /// and from each other: a clash gets `metadata.` in front (then `_2`, `_3`, … behind if it
    /// still clashes), so no parser has to choose between two values of one key.
    static func uniqueKeys(
        _ metadata: Logger.Metadata, reserved: Set<String>, clean: (String) -> String
    ) -> [(String, String)] {
        var taken = reserved
        var out: [(String, String)] = []
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            var name = clean(key)
            if taken.contains(name) { name = "metadata." + name }
            var unique = name
            var n = 2
            while taken.contains(unique) {
                unique = "\(name)_\(n)"
                n += 1
            }
            taken.insert(unique)
            out.append((unique, "\(value)"))
        }
        return out
    }

    /// A logfmt key: anything but letters, digits, `_`, `-` and `.` becomes `_`.
    static func logfmtKey(_ key: String) -> String {
        let allowed = { (c: Character) -> Bool in c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." }
        let cleaned = String(key.map { allowed($0) ? $0 : "_" })
        return cleaned.isEmpty ? "_" : cleaned
    }
}
