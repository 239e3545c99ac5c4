/// Percent-encoding (RFC 3986 §2.1) for URL query values and form bodies.
package enum PercentEncoding {
    /// Encodes every byte except the unreserved characters (`A–Z a–z 0–9 - . _ ~`) and those in
    /// `keeping` (for instance `$`, `:` and `/`, which are safe and readable in a query value).
    package static func encode(_ text: String, keeping: String = "") -> String {
        let kept = Set(keeping.utf8)
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(b)))
            default:
                if kept.contains(b) {
                    out.append(Character(UnicodeScalar(b)))
                } else {
                    let hex = String(b, radix: 16, uppercase: true)
                    out += "%" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
        }
        return out
    }
}
