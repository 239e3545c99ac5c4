public import CollectorCore

extension LEEFEncoder {
    /// Writes attributes as `key=value` pairs straight into the output: values are escaped as
    /// they are copied, numbers and times are written as digits, lists item by item, so no
    /// String is built per attribute.
    struct PairWriter: LEEFAttributeVisitor {
        var out: [UInt8] = []
        let escaping: ByteEscaping
        let delimiter: UInt8
        private var first = true

        init(escaping: ByteEscaping, delimiter: UInt8) {
            self.escaping = escaping
            self.delimiter = delimiter
        }

        mutating func visitText(_ key: String, _ value: String, importance: Int) {
            startPair(key)
            append(value)
        }

        mutating func visit(_ key: String, _ value: LEEFValue, importance: Int) {
            startPair(key)
            switch value {
            case .text(let text): append(text)
            case .integer(let n): append(String(n))  // a small String: kept inline, not allocated
            case .time(let time):
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 31) { buffer in
                    let count = time.writeISO8601(fractionDigits: 3, into: buffer)
                    escaping.append(
                        UnsafeBufferPointer(rebasing: buffer[0..<count]), to: &out, escape: LEEFEncoder.escape)
                }
            case .list(let items): appendList(items)
            case .hostNames(let hosts):
                var separate = false
                for i in hosts.indices { if let name = hosts[i].displayName { appendItem(name, &separate) } }
            case .userNames(let users):
                var separate = false
                for i in users.indices { if let name = users[i].listedName { appendItem(name, &separate) } }
            }
        }

        /// The delimiter (after the first pair), the key and `=`.
        private mutating func startPair(_ key: String) {
            if !first { out.append(delimiter) }
            first = false
            var key = key
            key.withUTF8 { out.append(contentsOf: $0) }
            out.append(0x3D)
        }

        private mutating func append(_ text: String) {
            escaping.append(text, to: &out, escape: LEEFEncoder.escape)
        }

        /// Items separated by commas (escaped when the comma is the delimiter).
        private mutating func appendList(_ items: [String]) {
            var separate = false
            for i in items.indices { appendItem(items[i], &separate) }
        }

        private mutating func appendItem(_ item: String, _ separate: inout Bool) {
            if separate {
                if escaping.isSpecial(0x2C) { LEEFEncoder.escape(0x2C, to: &out) } else { out.append(0x2C) }
            }
            separate = true
            append(item)
        }
    }
}
