import CollectorCore
import CollectorSystem
import Foundation

/// Scalar values as configuration writes them: environment substitution and `*_file` secrets.
extension YAMLConfigDecoder {
    /// Expands `${NAME}`, `${NAME:-default}` and `$$`.
    package func substitute(_ text: String, path: [any CodingKey]) throws -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var chars = Substring(text)
        while let dollar = chars.firstIndex(of: "$") {
            out += chars[..<dollar]
            let after = chars[chars.index(after: dollar)...]
            if after.first == "$" {
                out += "$"
                chars = after.dropFirst()
            } else if after.first == "{", let close = after.firstIndex(of: "}") {
                let body = after[after.index(after: after.startIndex)..<close]
                let name: Substring
                var fallback: Substring?
                if let sep = body.range(of: ":-") {
                    name = body[..<sep.lowerBound]
                    fallback = body[sep.upperBound...]
                } else {
                    name = body
                }
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: path,
                            debugDescription:
                                "'${\(body)}' is not a valid environment reference; write ${NAME} or ${NAME:-default}"))
                }
                if let value = environment[String(name)], !value.isEmpty {
                    out += value
                } else if let fallback {
                    out += fallback
                } else {
                    throw DecodingError.dataCorrupted(
                        .init(
                            codingPath: path,
                            debugDescription:
                                "environment variable \(name) is not set (write ${\(name):-default} to give a default)")
                    )
                }
                chars = after[after.index(after: close)...]
            } else {
                out += "$"
                chars = after
            }
        }
        out += chars
        return out
    }

    package func readSecretFile(_ pathValue: String, codingPath: [any CodingKey]) throws -> String {
        // Inside an item of an `*_directory`, relative to the item's file.
        let base = itemFile(of: Self.pathText(codingPath)).map(FileSystem.directoryName(of:)) ?? baseDirectory
        let path = pathValue.hasPrefix("/") ? pathValue : "\(base)/\(pathValue)"
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(path, limit: FileSystem.secretFileLimit)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: error.description))
        }
        secretsRead.append("\(path):\(bytes.count):\(CRC32.checksum(bytes))")
        guard var text = String(validating: bytes, as: UTF8.self) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "file '\(path)' is not UTF-8 text"))
        }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }
}
