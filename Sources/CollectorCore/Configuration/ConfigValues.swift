/// A length of time in configuration: `500ms`, `30s`, `5m`, `2h`, `7d`, or a bare number of
/// seconds (`1.5`). Combinations (`1h30m`) are accepted.
public struct ConfigDuration: Sendable, Hashable, Decodable, CustomStringConvertible {
    public var duration: Duration

    public init(_ duration: Duration) { self.duration = duration }

    /// The longest duration a configuration may give: 100 years (retention periods are the
    /// longest durations anyone writes; anything past this is a typo).
    public static let maximumSeconds: Double = 100 * 365 * 86_400

    /// `s` seconds, clamped to 0…``maximumSeconds``.
    public static func seconds(_ s: Double) -> ConfigDuration {
        let bounded = s.isNaN ? 0 : min(max(s, 0), maximumSeconds)
        return ConfigDuration(.milliseconds(Int64((bounded * 1000).rounded())))
    }

    /// `s` seconds when it is a number from 0 to ``maximumSeconds``; nil otherwise.
    static func checked(seconds s: Double) -> ConfigDuration? {
        guard s.isFinite, s >= 0, s <= maximumSeconds else { return nil }
        return .seconds(s)
    }

    static let rangeHint = "a duration must be from 0 to 100 years"

    public var seconds: Double {
        let c = duration.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    /// Parses the forms above; nil when the text is not one of them.
    public init?(parsing text: String) {
        let t = text.trimmed(of: " \t")
        guard !t.isEmpty else { return nil }
        if let s = Double(t) {
            guard let d = ConfigDuration.checked(seconds: s) else { return nil }
            self = d
            return
        }
        var total = 0.0
        var number = ""
        var unit = ""
        func commit() -> Bool {
            guard let n = Double(number) else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 0.001
            case "s", "sec", "secs": factor = 1
            case "m", "min", "mins": factor = 60
            case "h", "hr", "hrs": factor = 3600
            case "d", "day", "days": factor = 86_400
            case "w": factor = 604_800
            default: return false
            }
            total += n * factor
            number = ""
            unit = ""
            return true
        }
        for ch in t {
            if ch.isNumber || ch == "." {
                if !unit.isEmpty { guard commit() else { return nil } }
                number.append(ch)
            } else if ch.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(ch)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, !unit.isEmpty, commit(), let d = ConfigDuration.checked(seconds: total) else {
            return nil
        }
        self = d
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Double.self) {
            guard n >= 0 else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a duration cannot be negative")
            }
            guard let d = ConfigDuration.checked(seconds: n) else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "\(Self.quoted(String(n))) is out of range: \(Self.rangeHint)")
            }
            self = d
            return
        }
        let text = try c.decode(String.self)
        guard let d = ConfigDuration(parsing: text) else {
            if ConfigDuration.hasDurationForm(text) {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "\(Self.quoted(text)) is out of range: \(Self.rangeHint)")
            }
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "\(Self.quoted(text)) is not a duration; write e.g. 500ms, 30s, 5m, 2h, 7d")
        }
        self = d
    }

    /// Whether `text` has a duration's form whatever its size (to tell "too large" from "not a
    /// duration" in errors).
    static func hasDurationForm(_ text: String) -> Bool {
        let t = text.trimmed(of: " \t")
        return t.first?.isNumber == true && t.allSatisfy { $0.isNumber || $0.isLetter || $0 == "." || $0 == "+" }
    }

    /// A value for an error message: quoted, and shortened when long.
    static func quoted(_ text: String) -> String {
        text.count > 40 ? "'\(text.prefix(40))…'" : "'\(text)'"
    }

    public var description: String {
        let s = seconds
        if s >= 86_400, s.truncatingRemainder(dividingBy: 86_400) == 0 { return "\(Int(s / 86_400))d" }
        if s >= 3600, s.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(s / 3600))h" }
        if s >= 60, s.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(s / 60))m" }
        if s >= 1, s == s.rounded() { return "\(Int(s))s" }
        return "\(Int((s * 1000).rounded()))ms"
    }
}

/// A size in configuration: a bare number of bytes, or a number with a unit: `KB`/`MB`/`GB`
/// (powers of 1000) or `KiB`/`MiB`/`GiB` (powers of 1024). Case-insensitive; `k`, `m`, `g`
/// alone mean KiB, MiB, GiB.
public struct ByteSize: Sendable, Hashable, Comparable, Decodable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    /// The largest size a configuration may give: 1 PiB.
    public static let maximumBytes: Int64 = 1 << 50
    static let rangeHint = "a size must be from 0 to 1PiB"
    public static func mebibytes(_ n: Int64) -> ByteSize { ByteSize(bytes: n * 1_048_576) }
    public static func kibibytes(_ n: Int64) -> ByteSize { ByteSize(bytes: n * 1024) }
    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    public init?(parsing text: String) {
        let t = text.trimmed(of: " \t")
        let digits = t.prefix { $0.isNumber || $0 == "." }
        guard let n = Double(digits), n >= 0 else { return nil }
        let unit = String(t.dropFirst(digits.count)).trimmed(of: " \t").lowercased()
        let factor: Double
        switch unit {
        case "", "b": factor = 1
        case "kb": factor = 1e3
        case "mb": factor = 1e6
        case "gb": factor = 1e9
        case "k", "kib": factor = 1024
        case "m", "mib": factor = 1_048_576
        case "g", "gib": factor = 1_073_741_824
        default: return nil
        }
        let value = (n * factor).rounded()
        guard value.isFinite, value <= Double(ByteSize.maximumBytes) else { return nil }
        bytes = Int64(value)
    }

    /// Whether `text` has a size's form whatever its value (to tell "too large" in errors).
    static func hasSizeForm(_ text: String) -> Bool {
        let t = text.trimmed(of: " \t")
        return t.first?.isNumber == true && t.allSatisfy { $0.isNumber || $0.isLetter || $0 == "." || $0 == " " }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int64.self) {
            guard n >= 0 else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "a size cannot be negative")
            }
            guard n <= ByteSize.maximumBytes else {
                throw DecodingError.dataCorruptedError(
                    in: c, debugDescription: "\(n) is out of range: \(Self.rangeHint)")
            }
            bytes = n
            return
        }
        let text = try c.decode(String.self)
        guard let b = ByteSize(parsing: text) else {
            if ByteSize.hasSizeForm(text) {
                throw DecodingError.dataCorruptedError(
                    in: c,
                    debugDescription:
                        "\(ConfigDuration.quoted(text)) is out of range or not a size: \(Self.rangeHint), "
                        + "written e.g. 1048576, 512KiB, 100MiB, 1GB")
            }
            throw DecodingError.dataCorruptedError(
                in: c,
                debugDescription:
                    "\(ConfigDuration.quoted(text)) is not a size; write e.g. 1048576, 512KiB, 100MiB, 1GB")
        }
        self = b
    }

    public var description: String {
        if bytes >= 1_073_741_824, bytes % 1_073_741_824 == 0 { return "\(bytes / 1_073_741_824)GiB" }
        if bytes >= 1_048_576, bytes % 1_048_576 == 0 { return "\(bytes / 1_048_576)MiB" }
        if bytes >= 1024, bytes % 1024 == 0 { return "\(bytes / 1024)KiB" }
        return "\(bytes)"
    }
}

extension String {
    func trimmed(of set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
