import CollectorSystem

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `Retry-After` response header (RFC 9110 §10.2.3), read strictly and without Foundation:
/// `delay-seconds` (`120`) or an `HTTP-date` — the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms a recipient must accept
/// (RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`).
///
/// Anything else is not a Retry-After value and reads as nil: the caller falls back to its own
/// backoff. Delays are capped at ``maximum``, so a broken proxy cannot park a tenant for years.
package enum RetryAfter {
    /// The longest delay honoured; a longer one (or a date further ahead) waits this long.
    package static let maximum: Duration = .seconds(3600)

    /// The delay the header asks for, measured from `now` (seconds since the Unix epoch) for a
    /// date; nil when the value is not one of the forms above. A date in the past means zero.
    package static func parse(_ value: String, now: Int64 = wallClockSeconds()) -> Duration? {
        let bytes = Array(value.utf8)
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        let text = Array(bytes[start..<end])
        guard !text.isEmpty else { return nil }
        if text.allSatisfy(isDigit) {
            // delay-seconds: any number of digits; more than the cap is the cap.
            var seconds: Int64 = 0
            for b in text {
                seconds = seconds * 10 + Int64(b - 0x30)
                if seconds > 3600 * 24 { break }
            }
            return min(.seconds(seconds), maximum)
        }
        guard let date = httpDate(text) else { return nil }
        // Four-digit years keep both within ±400 billion seconds: no overflow.
        let delta = date - now
        if delta <= 0 { return .zero }
        return min(.seconds(delta), maximum)
    }

    /// Now, in seconds since the Unix epoch.
    package static func wallClockSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// An HTTP-date in any of its three forms, in seconds since the Unix epoch; nil for anything else.
    package static func httpDate(_ text: [UInt8]) -> Int64? {
        var p = Parser(bytes: text)
        if let t = p.imfFixdate() { return t }
        p = Parser(bytes: text)
        if let t = p.rfc850Date() { return t }
        p = Parser(bytes: text)
        return p.asctimeDate()
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    static let shortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// A cursor over the header's bytes; every method consumes exactly its token or fails.
    struct Parser {
        var bytes: [UInt8]
        var index = 0

        mutating func literal(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard index + u.count <= bytes.count, Array(bytes[index..<(index + u.count)]) == u else { return false }
            index += u.count
            return true
        }

        mutating func oneOf(_ words: [String]) -> Int? {
            for (i, w) in words.enumerated() where literal(w) { return i }
            return nil
        }

        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var v = 0
            for b in bytes[index..<(index + count)] {
                guard RetryAfter.isDigit(b) else { return nil }
                v = v * 10 + Int(b - 0x30)
            }
            index += count
            return v
        }

        /// `HH:MM:SS`, each in range (a leap second 60 is allowed).
        mutating func timeOfDay() -> (Int, Int, Int)? {
            guard let h = digits(2), literal(":"), let m = digits(2), literal(":"), let s = digits(2),
                h < 24, m < 60, s <= 60
            else { return nil }
            return (h, m, s)
        }

        var atEnd: Bool { index == bytes.count }

        /// `Sun, 06 Nov 1994 08:49:37 GMT`
        mutating func imfFixdate() -> Int64? {
            guard oneOf(RetryAfter.shortDays) != nil, literal(", "), let day = digits(2), literal(" "),
                let month = oneOf(RetryAfter.months), literal(" "), let year = digits(4), literal(" "),
                let time = timeOfDay(), literal(" GMT"), atEnd
            else { return nil }
            return RetryAfter.timestamp(year: year, month: month + 1, day: day, time: time)
        }

        /// `Sunday, 06-Nov-94 08:49:37 GMT`; a two-digit year more than 50 years ahead is in the
        /// past century (RFC 9110 §5.6.7), judged here against 2000–2099 for simplicity.
        mutating func rfc850Date() -> Int64? {
            guard oneOf(RetryAfter.longDays) != nil, literal(", "), let day = digits(2), literal("-"),
                let month = oneOf(RetryAfter.months), literal("-"), let yy = digits(2), literal(" "),
                let time = timeOfDay(), literal(" GMT"), atEnd
            else { return nil }
            return RetryAfter.timestamp(year: yy < 70 ? 2000 + yy : 1900 + yy, month: month + 1, day: day, time: time)
        }

        /// `Sun Nov  6 08:49:37 1994` (the day is space-padded).
        mutating func asctimeDate() -> Int64? {
            guard oneOf(RetryAfter.shortDays) != nil, literal(" "), let month = oneOf(RetryAfter.months), literal(" ")
            else { return nil }
            let day: Int
            if literal(" "), let d = digits(1) { day = d } else if let d = digits(2) { day = d } else { return nil }
            guard literal(" "), let time = timeOfDay(), literal(" "), let year = digits(4), atEnd else { return nil }
            return RetryAfter.timestamp(year: year, month: month + 1, day: day, time: time)
        }
    }

    /// Seconds since the Unix epoch, when the calendar date exists (no 31 February).
    static func timestamp(year: Int, month: Int, day: Int, time: (Int, Int, Int)) -> Int64? {
        guard (1...12).contains(month), (1...CivilCalendar.daysIn(month: month, year: year)).contains(day) else {
            return nil
        }
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(time.0 * 3600 + time.1 * 60 + time.2)
    }
}
