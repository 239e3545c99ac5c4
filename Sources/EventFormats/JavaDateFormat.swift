public import CollectorCore

/// A Java `SimpleDateFormat` pattern, the form QRadar's `devTimeFormat` takes, rendered in UTC.
///
/// Supported letters: `yyyy` `yy` (year), `MMM` (Jan…Dec) `MM` `M` (month), `dd` `d`, `HH` `H`,
/// `mm` `m`, `ss` `s`, `SSS` (milliseconds), `z` (`UTC`), `Z` (`+0000`), `X`/`XXX` (`Z`); text in
/// single quotes is literal (`''` is a quote). Anything else is rejected when the pattern is read.
public struct JavaDateFormat: Sendable, Hashable, CustomStringConvertible {
    enum Token: Sendable, Hashable {
        case literal(String)
        case field(Character, Int)
    }

    public let pattern: String
    let tokens: [Token]
    public var description: String { pattern }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public init(_ pattern: String) throws(FormatError) {
        self.pattern = pattern
        var tokens: [Token] = []
        let chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "'" {
                if i + 1 < chars.count && chars[i + 1] == "'" {
                    tokens.append(.literal("'"))
                    i += 2
                    continue
                }
                // Quoted text; '' inside it is one quote.
                var text = ""
                var j = i + 1
                var closed = false
                while j < chars.count {
                    if chars[j] == "'" {
                        if j + 1 < chars.count && chars[j + 1] == "'" {
                            text.append("'")
                            j += 2
                            continue
                        }
                        closed = true
                        break
                    }
                    text.append(chars[j])
                    j += 1
                }
                guard closed else { throw FormatError("date format '\(pattern)': unclosed quote") }
                tokens.append(.literal(text))
                i = j + 1
                continue
            }
            if c.isLetter && c.isASCII {
                var n = 1
                while i + n < chars.count && chars[i + n] == c { n += 1 }
                let ok: Bool
                switch c {
                case "y": ok = n == 2 || n == 4
                case "M": ok = n <= 3
                case "d", "H", "m", "s": ok = n <= 2
                case "S": ok = n == 3
                case "z", "Z": ok = n == 1
                case "X": ok = n == 1 || n == 3
                default: ok = false
                }
                guard ok else {
                    throw FormatError(
                        "date format '\(pattern)': '\(String(repeating: c, count: n))' is not supported (use yyyy MM "
                            + "MMM dd HH mm ss SSS z Z X)"
                    )
                }
                tokens.append(.field(c, n))
                i += n
                continue
            }
            tokens.append(.literal(String(c)))
            i += 1
        }
        self.tokens = tokens
    }

    public func format(_ time: Timestamp) -> String {
        let c = time.utcComponents
        var out = ""
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        for token in tokens {
            switch token {
            case .literal(let text): out += text
            case .field(let letter, let n):
                switch letter {
                case "y": out += n == 2 ? pad(c.year % 100, 2) : pad(c.year, 4)
                case "M": out += n == 3 ? Self.months[c.month - 1] : pad(c.month, n)
                case "d": out += pad(c.day, n)
                case "H": out += pad(c.hour, n)
                case "m": out += pad(c.minute, n)
                case "s": out += pad(c.second, n)
                case "S": out += pad(c.nanosecond / 1_000_000, 3)
                case "z": out += "UTC"
                case "Z": out += "+0000"
                default: out += "Z"
                }
            }
        }
        return out
    }
}
