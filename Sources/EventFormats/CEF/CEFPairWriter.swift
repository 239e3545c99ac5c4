extension CEFEncoder {
    /// Writes pairs straight into the output, space-separated, escaping values as they are
    /// copied. A value that needs more than escaping (a space or control character at either
    /// end, which the guide's trimming removes, or more bytes than its key allows) takes the
    /// slow way through ``CEFFormat/pair(_:_:importance:)``.
    struct PairWriter: CEFPairVisitor {
        var out: [UInt8] = []
        private var first = true

        mutating func visit(_ key: CEFKey, _ value: String?, importance: Int) {
            guard let value, !value.isEmpty else { return }
            if Self.isPlain(value, limit: key.limit) {
                write(key.key, value, label: key.label)
            } else if let pair = CEFFormat.pair(key, value, importance: importance) {
                write(pair.key, pair.value, label: pair.label)
            }
        }

        /// `key=value`, preceded by `keyLabel=label` for a custom key.
        mutating func write(_ key: String, _ value: String, label: String?) {
            if !first { out.append(0x20) }
            first = false
            if let label {
                out.append(contentsOf: key.utf8)
                out.append(contentsOf: "Label=".utf8)
                CEFEncoder.appendValue(CEFEncoder.cut(label, toBytes: 1023), to: &out)
                out.append(0x20)
            }
            out.append(contentsOf: key.utf8)
            out.append(UInt8(ascii: "="))
            // Control characters inside a value become spaces in the escape, as trimming would.
            CEFEncoder.appendValue(value, to: &out)
        }

        /// Whether a value is written as it is: within its limit, and neither end a space or a
        /// control character other than a line break.
        static func isPlain(_ value: String, limit: Int) -> Bool {
            func trimmed(_ byte: UInt8) -> Bool {
                byte == 0x20 || byte == 0x7F || (byte < 0x20 && byte != 0x0A && byte != 0x0D)
            }
            var value = value
            return value.withUTF8 { bytes in
                guard bytes.count <= limit, let head = bytes.first, let tail = bytes.last else { return false }
                return !trimmed(head) && !trimmed(tail)
            }
        }
    }
}
