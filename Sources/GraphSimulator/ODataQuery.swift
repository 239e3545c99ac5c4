import CollectorCore
import CollectorSystem

/// The subset of OData the Graph Security list endpoints take, as the simulator understands it:
/// `$filter` (comparisons joined by `and`, parentheses allowed), `$orderby`, `$top`, `$skip`,
/// `$skiptoken`.
struct ODataQuery: Sendable {
    struct Condition: Sendable {
        var property: String
        var op: String
        var value: String
        var isTime: Bool
    }

    var conditions: [Condition] = []
    var orderBy: (property: String, ascending: Bool)?
    var top: Int?
    var skip: Int?
    var skipToken: Int?

    struct Problem: Error, Sendable { var message: String }

    static let timeProperties: Set<String> = [
        "lastUpdateDateTime", "lastModifiedDateTime", "createdDateTime", "eventDateTime",
    ]

    init(items: [(String, String)]) throws(Problem) {
        for (name, value) in items {
            switch name {
            case "$filter": conditions = try Self.parseFilter(value)
            case "$orderby":
                let parts = value.split(separator: " ").map(String.init)
                guard let first = parts.first, parts.count <= 2 else {
                    throw Problem(message: "Invalid $orderby '\(value)'.")
                }
                orderBy = (first, parts.count < 2 || parts[1].lowercased() == "asc")
            case "$top":
                guard let n = Int(value), n >= 0 else {
                    throw Problem(message: "Invalid value '\(value)' for $top query option.")
                }
                top = n
            case "$skip":
                guard let n = Int(value), n >= 0 else {
                    throw Problem(message: "Invalid value '\(value)' for $skip query option.")
                }
                skip = n
            case "$skiptoken":
                guard let n = Int(value), n >= 0 else { throw Problem(message: "Invalid skip token.") }
                skipToken = n
            case "$count", "$select", "$expand":
                break
            default:
                if name.hasPrefix("$") {
                    throw Problem(message: "Query option '\(name.dropFirst())' is not supported.")
                }
            }
        }
    }

    static func parseFilter(_ text: String) throws(Problem) -> [Condition] {
        // Split on top-level " and " outside quotes; drop grouping parentheses.
        var parts: [String] = []
        var current = ""
        var inQuote = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "'" { inQuote.toggle() }
            if !inQuote, c == " ", i + 5 <= chars.count,
                String(chars[i..<min(i + 5, chars.count)]).lowercased() == " and "
            {
                parts.append(current)
                current = ""
                i += 5
                continue
            }
            if !inQuote && (c == "(" || c == ")") {
                i += 1
                continue
            }
            if !inQuote && c == " " && current.hasSuffix(" ") {
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        parts.append(current)
        var conditions: [Condition] = []
        for part in parts {
            let trimmed = part.trimmedSpaces
            if trimmed.lowercased().contains(" or ") {
                throw Problem(message: "The simulator does not support 'or' in $filter: '\(trimmed)'.")
            }
            let tokens = trimmed.split(separator: " ", maxSplits: 2).map(String.init)
            guard tokens.count == 3, ["eq", "ne", "gt", "ge", "lt", "le"].contains(tokens[1].lowercased()) else {
                throw Problem(message: "Invalid filter clause: '\(trimmed)'.")
            }
            var value = tokens[2]
            let isTime = timeProperties.contains(tokens[0])
            if value.hasPrefix("'") && value.hasSuffix("'") && value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences("''", "'")
            } else if isTime {
                guard Timestamp(iso8601: value) != nil else {
                    throw Problem(message: "Invalid DateTimeOffset literal '\(value)'.")
                }
            }
            conditions.append(Condition(property: tokens[0], op: tokens[1].lowercased(), value: value, isTime: isTime))
        }
        return conditions
    }

    static func compare<T: Comparable>(_ a: T, _ op: String, _ b: T) -> Bool {
        switch op {
        case "eq": return a == b
        case "ne": return a != b
        case "gt": return a > b
        case "ge": return a >= b
        case "lt": return a < b
        default: return a <= b
        }
    }
}

extension String {
    var trimmedSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Percent-encoding for query values (RFC 3986 unreserved characters pass).
enum URLEncoding {
    static func encode(_ s: String) -> String { PercentEncoding.encode(s, keeping: "$:") }

    static func decode(_ s: String) -> String {
        var bytes: [UInt8] = []
        var i = s.utf8.startIndex
        let u = s.utf8
        while i < u.endIndex {
            let b = u[i]
            if b == UInt8(ascii: "%"), let h = u.index(i, offsetBy: 2, limitedBy: u.endIndex), h < u.endIndex,
                let v = UInt8(String(decoding: u[u.index(after: i)...h], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i = u.index(after: h)
            } else {
                bytes.append(b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
                i = u.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `a=1&b=2` into pairs, decoded.
    static func pairs(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { item in
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            return (decode(kv[0]), kv.count > 1 ? decode(kv[1]) : "")
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
