import CollectorCore
import CollectorSystem
import Foundation
import Yams

extension YAMLConfigDecoder {
    /// The largest item file read from an `*_directory` (a tenant is a few lines).
    static let itemFileLimit = 1 << 20

    /// The items of a list given as `x_directory: /path`: every `*.yaml` and `*.yml` file there,
    /// in name order (hidden files and others skipped), each one mapping. Relative `*_file`
    /// paths inside an item are resolved against the item's own directory, and errors inside it
    /// name its file. Every file read (and the listing) joins the entry's fingerprint, so a
    /// reload notices a file added, removed or changed.
    func directoryItems(_ pathValue: String, codingPath: [any CodingKey], startingAt first: Int) throws -> [Node] {
        let directory = pathValue.hasPrefix("/") ? pathValue : "\(baseDirectory)/\(pathValue)"
        func problem(_ text: String) -> DecodingError {
            .dataCorrupted(.init(codingPath: codingPath, debugDescription: text))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw problem("'\(directory)' is not a directory")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
                !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml"))
            }.sorted()
        } catch {
            throw problem("cannot list '\(directory)': \(error.localizedDescription)")
        }
        secretsRead.append("\(directory)/:\(names.joined(separator: "/"))")
        var items: [Node] = []
        for (offset, name) in names.enumerated() {
            let path = "\(directory)/\(name)"
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.readRegularFile(path, limit: Self.itemFileLimit)
            } catch {
                throw problem(error.description)
            }
            secretsRead.append("\(path):\(bytes.count):\(CRC32.checksum(bytes))")
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw ConfigError(file: path, message: "not UTF-8 text")
            }
            let node: Node?
            do {
                node = try Yams.compose(yaml: text)
            } catch {
                throw ConfigError.yaml(error, file: path)
            }
            guard let node, case .mapping = node else {
                throw ConfigError(
                    file: path, line: node?.mark?.line, column: node?.mark?.column,
                    context: Self.pathText(codingPath),
                    message:
                        "expected one item as a mapping (key: value lines), found \(node.map(describe) ?? "nothing")"
                )
            }
            itemFiles[Self.pathText(codingPath + [IndexKey(first + offset)])] = path
            items.append(node)
        }
        return items
    }

    /// The file the node at `pathText` was read from: an item file of an `*_directory`, or the
    /// configuration file.
    package func file(of pathText: String) -> String {
        itemFile(of: pathText) ?? file
    }

    /// The item file holding `pathText`, if it came from an `*_directory`.
    func itemFile(of pathText: String) -> String? {
        guard !itemFiles.isEmpty else { return nil }
        var best: (length: Int, file: String)?
        for (prefix, file) in itemFiles
        where pathText == prefix || pathText.hasPrefix(prefix + ".") || pathText.hasPrefix(prefix + "[") {
            if prefix.count > (best?.length ?? -1) { best = (prefix.count, file) }
        }
        return best?.file
    }
}
