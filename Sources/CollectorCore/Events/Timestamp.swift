import CollectorSystem
public import Foundation

/// A point in time with nanosecond precision, parsed from and printed as RFC 3339 / ISO 8601.
///
/// Graph writes times with seven fractional digits (`2021-04-27T12:19:27.7211305Z`), more than a
/// `Date` keeps exactly, and the collector compares them for watermarks and duplicate keys, so
/// this type keeps whole nanoseconds since the Unix epoch.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanosecondsSinceEpoch: Int64

    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// The date, clamped to the representable range (1677–2262).
    public init(_ date: Date) {
        let ns = (date.timeIntervalSince1970 * 1e9).rounded()
        nanosecondsSinceEpoch = ns.isNaN ? 0 : (Int64(exactly: ns) ?? (ns > 0 ? .max : .min))
    }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(nanosecondsSinceEpoch) / 1e9) }
    public var secondsSinceEpoch: Int64 { nanosecondsSinceEpoch.floorDiv(1_000_000_000) }
    public var millisecondsSinceEpoch: Int64 { nanosecondsSinceEpoch.floorDiv(1_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// This time moved by `duration`, clamped to the representable range.
    public func adding(_ duration: Duration) -> Timestamp {
        let c = duration.components
        let (scaled, o1) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (delta, o2) = scaled.addingReportingOverflow(c.attoseconds / 1_000_000_000)
        let (sum, o3) = nanosecondsSinceEpoch.addingReportingOverflow(delta)
        if o1 || o2 || o3 {
            return c.seconds >= 0 ? Self.representableRange.upperBound : Self.representableRange.lowerBound
        }
        return Timestamp(nanosecondsSinceEpoch: sum)
    }

    /// The time from `earlier` to this one.
    public func duration(since earlier: Timestamp) -> Duration {
        let (d, overflow) = nanosecondsSinceEpoch.subtractingReportingOverflow(earlier.nanosecondsSinceEpoch)
        return overflow ? (self > earlier ? .seconds(Int64.max / 1_000_000_000) : .zero) : .nanoseconds(d)
    }

    /// This time moved by `seconds`, clamped to the representable range.
    public func adding(seconds: Double) -> Timestamp {
        let delta = (seconds * 1e9).rounded()
        guard delta.isFinite else {
            return seconds > 0 ? Self.representableRange.upperBound : Self.representableRange.lowerBound
        }
        let clamped = Int64(exactly: delta) ?? (delta > 0 ? Int64.max : Int64.min)
        let (sum, overflow) = nanosecondsSinceEpoch.addingReportingOverflow(clamped)
        if overflow { return clamped > 0 ? Self.representableRange.upperBound : Self.representableRange.lowerBound }
        return Timestamp(nanosecondsSinceEpoch: sum)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; a space may stand for `T`, and
    /// lower-case `t`/`z` are accepted (RFC 3339 §5.6). Returns nil for anything else.
    public init?(iso8601 text: String) {
        var utf8 = Array(text.utf8)
        guard utf8.count >= 20 else { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= utf8.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let b = utf8[i]
                guard b >= 0x30 && b <= 0x39 else { return nil }
                v = v * 10 + Int(b - 0x30)
            }
            return v
        }
        if utf8[10] == UInt8(ascii: "t") || utf8[10] == UInt8(ascii: " ") { utf8[10] = UInt8(ascii: "T") }
        guard let year = digits(0, 4), utf8[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            utf8[7] == UInt8(ascii: "-"), let day = digits(8, 2), utf8[10] == UInt8(ascii: "T"),
            let hour = digits(11, 2), utf8[13] == UInt8(ascii: ":"), let minute = digits(14, 2),
            utf8[16] == UInt8(ascii: ":"), let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if index < utf8.count, utf8[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < utf8.count, utf8[index] >= 0x30, utf8[index] <= 0x39 {
                if count < 9 { nanos = nanos * 10 + Int64(utf8[index] - 0x30) }
                count += 1
                index += 1
            }
            guard count > 0 else { return nil }
            if count < 9 { for _ in count..<9 { nanos *= 10 } }
        }
        guard index < utf8.count else { return nil }
        var offsetSeconds = 0
        switch utf8[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = utf8[index] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = digits(index + 1, 2), utf8.count > index + 3, utf8[index + 3] == UInt8(ascii: ":"),
                let om = digits(index + 4, 2)
            else { return nil }
            offsetSeconds = sign * (oh * 3600 + om * 60)
            index += 6
        default:
            return nil
        }
        guard index == utf8.count else { return nil }
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetSeconds)
        // Nanoseconds since 1970 in 64 bits reach from 1677-09-21 to 2262-04-11: a time outside
        // (Microsoft's "unset" 0001-01-01, say) is not representable, and is reported as unreadable.
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(nanos)
        guard !overflow, !overflow2 else { return nil }
        nanosecondsSinceEpoch = total
    }

    /// The earliest and latest times a ``Timestamp`` can hold.
    public static let representableRange: ClosedRange<Timestamp> =
        Timestamp(nanosecondsSinceEpoch: .min)...Timestamp(nanosecondsSinceEpoch: .max)

    /// Broken-down UTC fields.
    public var utcComponents:
        (
            year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanosecond: Int, weekday: Int,
            dayOfYear: Int
        )
    {
        let seconds = secondsSinceEpoch
        let nanos = Int(nanosecondsSinceEpoch - seconds * 1_000_000_000)
        let days = Int(seconds.floorDiv(86_400))
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = CivilCalendar.civilFromDays(days)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4); 0 = Sunday
        let dayOfYear = days - CivilCalendar.daysFromCivil(year: y, month: 1, day: 1) + 1
        return (y, m, d, secondOfDay / 3600, (secondOfDay / 60) % 60, secondOfDay % 60, nanos, weekday, dayOfYear)
    }

    /// RFC 3339 in UTC with the given number of fractional digits (0–9), e.g.
    /// `2021-04-27T12:19:27.7211305Z` for 7.
    public func iso8601(fractionDigits: Int = 7) -> String {
        String(unsafeUninitializedCapacity: 31) { writeISO8601(fractionDigits: fractionDigits, into: $0) }
    }

    /// Appends ``iso8601(fractionDigits:)``'s text to `out` without building a String.
    public func appendISO8601(fractionDigits: Int = 7, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 31) { buffer in
            let count = writeISO8601(fractionDigits: fractionDigits, into: buffer)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Writes the RFC 3339 text into `buffer` (at least 31 bytes) and returns its length. It runs
    /// for every timestamp of every event a sink writes, so it goes digit by digit.
    public func writeISO8601(fractionDigits: Int, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        precondition(buffer.count >= 31, "writeISO8601 needs a buffer of at least 31 bytes")
        let c = utcComponents
        let digits = min(max(fractionDigits, 0), 9)
        var i = 0
        func put(_ value: Int, _ width: Int) {
            var v = value
            if width == 4 && (v < 0 || v > 9999) {
                // Outside four digits (not seen in practice): fall back to the plain number.
                for b in String(v).utf8 {
                    buffer[i] = b
                    i += 1
                }
                return
            }
            var k = width - 1
            while k >= 0 {
                buffer[i + k] = UInt8(48 + v % 10)
                v /= 10
                k -= 1
            }
            i += width
        }
        func char(_ b: UInt8) {
            buffer[i] = b
            i += 1
        }
        put(c.year, 4)
        char(0x2D)
        put(c.month, 2)
        char(0x2D)
        put(c.day, 2)
        char(0x54)
        put(c.hour, 2)
        char(0x3A)
        put(c.minute, 2)
        char(0x3A)
        put(c.second, 2)
        if digits > 0 {
            var divisor = 1
            for _ in 0..<(9 - digits) { divisor *= 10 }
            char(0x2E)
            put(c.nanosecond / divisor, digits)
        }
        char(0x5A)
        return i
    }

    public var description: String { iso8601() }

    func pad(_ value: Int, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let ts = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an RFC 3339 time")
        }
        self = ts
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601())
    }
}

extension Int64 {
    func floorDiv(_ d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
