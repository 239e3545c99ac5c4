import CollectorCore
import Foundation
package import Yams

/// Decodes `Decodable` configuration types from YAML nodes, with what operators need:
/// - every error carries the file, line and column of the offending node;
/// - keys nobody asked for are reported as unknown, with the nearest known key suggested;
/// - scalars expand `${NAME}` and `${NAME:-default}` from the environment (`$$` is a `$`);
/// - a key `x` may instead be given as `x_file: /path`, whose content (without the trailing
///   newline) is the value: the way to keep secrets out of configuration files;
/// - a list `x` may be given (or extended) as `x_directory: /path`, each YAML file there one
///   item (see ``directoryItems(_:codingPath:)``): a thousand tenants, a file each.
package final class YAMLConfigDecoder {
    package let file: String
    package let environment: [String: String]
    /// Directory that relative `*_file` paths are resolved against.
    package let baseDirectory: String

    /// Keys asked for per mapping, by coding-path text; a mapping decoded as a dictionary is open.
    package var requestedKeys: [String: Set<String>] = [:]
    package var openMappings: Set<String> = []
    package var mappings: [String: Node.Mapping] = [:]
    /// Source positions by coding-path text.
    package var marks: [String: Mark] = [:]
    /// Warnings about valid configuration (see `ConfigurationAdvice`), located.
    package var advice: [ConfigError] = []
    /// Each `*_file` secret read, as path, size and CRC-32 (never the secret): a SIGHUP that
    /// finds a rotated secret file treats its entry as changed.
    package var secretsRead: [String] = []
    /// The file each item read from an `*_directory` came from, by coding-path text, so errors
    /// inside it name that file.
    package var itemFiles: [String: String] = [:]

    package init(file: String, environment: [String: String], baseDirectory: String) {
        self.file = file
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    package func decode<T: Decodable>(_ type: T.Type, from node: Node, path: [any CodingKey]) throws -> T {
        let decoder = NodeDecoder(node: node, codingPath: path, session: self)
        return try T(from: decoder)
    }

    /// Turns any error from decoding into a located ``ConfigError``.
    package func locate(_ error: any Error, context: String) -> ConfigError {
        if let error = error as? ConfigError { return error }
        guard let error = error as? DecodingError else {
            return ConfigError(file: file, context: context, message: "\(error)")
        }
        let (path, message): ([any CodingKey], String)
        switch error {
        case .keyNotFound(let key, let c):
            let hint = isPlaceholder(c.debugDescription) ? "" : " (\(c.debugDescription))"
            path = c.codingPath
            message =
                "missing required key '\(key.stringValue)'\(hint)"
                + (c.codingPath.isEmpty ? "" : " in \(Self.pathText(c.codingPath))")
        case .typeMismatch(_, let c):
            path = c.codingPath
            message = "\(Self.pathText(c.codingPath)): \(c.debugDescription)"
        case .valueNotFound(_, let c):
            path = c.codingPath
            message = "\(Self.pathText(c.codingPath)): a value is required here"
        case .dataCorrupted(let c):
            path = c.codingPath
            message =
                c.codingPath.isEmpty ? c.debugDescription : "\(Self.pathText(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return ConfigError(file: file, context: context, message: "\(error)")
        }
        let mark = nearestMark(path)
        return ConfigError(
            file: file(of: Self.pathText(path)), line: mark?.line, column: mark?.column, context: context,
            message: message)
    }

    private func isPlaceholder(_ text: String) -> Bool {
        text.isEmpty || text.hasPrefix("No value associated with key")
    }

    package func nearestMark(_ path: [any CodingKey]) -> Mark? {
        var p = path
        while true {
            if let m = marks[Self.pathText(p)] { return m }
            if p.isEmpty { return nil }
            p.removeLast()
        }
    }

    package static func pathText(_ path: [any CodingKey]) -> String {
        var s = ""
        for key in path {
            if let i = key.intValue {
                s += "[\(i)]"
            } else {
                s += s.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return s
    }
}

package struct IndexKey: CodingKey {
    package var intValue: Int?
    package var stringValue: String { "\(intValue ?? 0)" }
    package init(_ i: Int) { intValue = i }
    package init?(intValue: Int) { self.intValue = intValue }
    package init?(stringValue: String) { return nil }
}

package struct NameKey: CodingKey {
    package var stringValue: String
    package var intValue: Int? { nil }
    package init(_ s: String) { stringValue = s }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { return nil }
}

struct NodeDecoder: Decoder {
    let node: Node
    let codingPath: [any CodingKey]
    let session: YAMLConfigDecoder
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node, codingPath: [any CodingKey], session: YAMLConfigDecoder) {
        self.node = node
        self.codingPath = codingPath
        self.session = session
        if let mark = node.mark { session.marks[YAMLConfigDecoder.pathText(codingPath)] = mark }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = node else {
            throw DecodingError.typeMismatch(
                [String: Any].self,
                .init(
                    codingPath: codingPath,
                    debugDescription: "expected a mapping (key: value lines), found \(describe(node))"))
        }
        let pathText = YAMLConfigDecoder.pathText(codingPath)
        session.mappings[pathText] = mapping
        if session.requestedKeys[pathText] == nil { session.requestedKeys[pathText] = [] }
        return KeyedDecodingContainer(KeyedContainer<Key>(mapping: mapping, codingPath: codingPath, session: session))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let sequence) = node else {
            throw DecodingError.typeMismatch(
                [Any].self, .init(codingPath: codingPath, debugDescription: "expected a list, found \(describe(node))"))
        }
        return UnkeyedContainer(elements: Array(sequence), codingPath: codingPath, session: session)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValue(node: node, codingPath: codingPath, session: session)
    }
}

package func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let s): return s.string.isEmpty ? "an empty value" : "'\(s.string)'"
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
}

package func isNullScalar(_ node: Node) -> Bool {
    guard case .scalar(let s) = node else { return false }
    if s.style == .plain, ["", "~", "null", "Null", "NULL"].contains(s.string) { return true }
    return false
}

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Node.Mapping
    let codingPath: [any CodingKey]
    let session: YAMLConfigDecoder
    var pathText: String { YAMLConfigDecoder.pathText(codingPath) }

    init(mapping: Node.Mapping, codingPath: [any CodingKey], session: YAMLConfigDecoder) {
        self.mapping = mapping
        self.codingPath = codingPath
        self.session = session
    }

    var allKeys: [Key] {
        session.openMappings.insert(pathText)
        return mapping.keys.compactMap { $0.scalar?.string }.compactMap { Key(stringValue: $0) }
    }

    private func note(_ key: Key) {
        session.requestedKeys[pathText, default: []].insert(key.stringValue)
        session.requestedKeys[pathText, default: []].insert(key.stringValue + "_file")
        session.requestedKeys[pathText, default: []].insert(key.stringValue + "_directory")
    }

    private func value(_ key: Key) -> Node? {
        note(key)
        for (k, v) in mapping where k.scalar?.string == key.stringValue {
            if let m = v.mark { session.marks[YAMLConfigDecoder.pathText(codingPath + [key])] = m }
            return v
        }
        return nil
    }

    private func fileValue(_ key: Key) -> Node? {
        for (k, v) in mapping where k.scalar?.string == key.stringValue + "_file" {
            if let m = v.mark { session.marks[YAMLConfigDecoder.pathText(codingPath + [key])] = m }
            return v
        }
        return nil
    }

    private func directoryValue(_ key: Key) -> Node? {
        for (k, v) in mapping where k.scalar?.string == key.stringValue + "_directory" {
            if let m = v.mark { session.marks[YAMLConfigDecoder.pathText(codingPath + [key])] = m }
            return v
        }
        return nil
    }

    func contains(_ key: Key) -> Bool {
        value(key) != nil || fileValue(key) != nil || directoryValue(key) != nil
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = value(key) else { return fileValue(key) == nil && directoryValue(key) == nil }
        return isNullScalar(v)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let path = codingPath + [key]
        if let d = directoryValue(key) {
            let directory = try SingleValue(node: d, codingPath: path, session: session).decode(String.self)
            var items: [Node] = []
            if let v = value(key) {
                guard case .sequence(let listed) = v else {
                    throw DecodingError.typeMismatch(
                        [Any].self, .init(codingPath: path, debugDescription: "expected a list, found \(describe(v))"))
                }
                items = Array(listed)
            }
            items += try session.directoryItems(directory, codingPath: path, startingAt: items.count)
            let node = Node.sequence(.init(items, .implicit, .block, d.mark))
            return try NodeDecoder(node: node, codingPath: path, session: session).singleValueContainer()
                .decode(T.self)
        }
        if let v = value(key) {
            return try SingleValue(node: v, codingPath: path, session: session).decode(T.self)
        }
        if let f = fileValue(key) {
            let filePath = try SingleValue(node: f, codingPath: path, session: session).decode(String.self)
            // The file's content is taken literally: no ${...} expansion inside a secret.
            let content = try session.readSecretFile(filePath, codingPath: path).replacingOccurrences(
                of: "$", with: "$$")
            let node = Node.scalar(.init(content, .implicit, .doubleQuoted, f.mark))
            return try SingleValue(node: node, codingPath: path, session: session).decode(T.self)
        }
        throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: ""))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        guard let v = value(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: ""))
        }
        return try NodeDecoder(node: v, codingPath: codingPath + [key], session: session).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let v = value(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: ""))
        }
        return try NodeDecoder(node: v, codingPath: codingPath + [key], session: session).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        NodeDecoder(node: .mapping(mapping), codingPath: codingPath, session: session)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        NodeDecoder(node: value(key) ?? Node("", .implicit, .plain), codingPath: codingPath + [key], session: session)
    }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [Node]
    let codingPath: [any CodingKey]
    let session: YAMLConfigDecoder
    var currentIndex = 0
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [Node], codingPath: [any CodingKey], session: YAMLConfigDecoder) {
        self.elements = elements
        self.codingPath = codingPath
        self.session = session
    }

    private mutating func next() throws -> (Node, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Any.self, .init(codingPath: codingPath, debugDescription: "the list has too few elements"))
        }
        let node = elements[currentIndex]
        let path = codingPath + [IndexKey(currentIndex)]
        if let mark = node.mark { session.marks[YAMLConfigDecoder.pathText(path)] = mark }
        currentIndex += 1
        return (node, path)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if isNullScalar(elements[currentIndex]) {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (node, path) = try next()
        return try SingleValue(node: node, codingPath: path, session: session).decode(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<
        NestedKey
    > {
        let (node, path) = try next()
        return try NodeDecoder(node: node, codingPath: path, session: session).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (node, path) = try next()
        return try NodeDecoder(node: node, codingPath: path, session: session).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (node, path) = try next()
        return NodeDecoder(node: node, codingPath: path, session: session)
    }
}

struct SingleValue: SingleValueDecodingContainer {
    let node: Node
    let codingPath: [any CodingKey]
    let session: YAMLConfigDecoder

    func decodeNil() -> Bool { isNullScalar(node) }

    private func text(expecting what: String) throws -> (String, Node.Scalar) {
        guard case .scalar(let scalar) = node else {
            throw DecodingError.typeMismatch(
                String.self,
                .init(codingPath: codingPath, debugDescription: "expected \(what), found \(describe(node))"))
        }
        return (try session.substitute(scalar.string, path: codingPath), scalar)
    }

    private func mismatch<T>(_ type: T.Type, _ what: String, _ text: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "expected \(what), found '\(text)'"))
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        let (t, _) = try text(expecting: "true or false")
        switch t.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw mismatch(type, "true or false", t)
        }
    }

    func decode(_ type: String.Type) throws -> String {
        if isNullScalar(node) {
            throw DecodingError.valueNotFound(
                String.self, .init(codingPath: codingPath, debugDescription: "a value is required here"))
        }
        let (t, _) = try text(expecting: "a text value")
        return t
    }

    func decode(_ type: Double.Type) throws -> Double {
        let (t, _) = try text(expecting: "a number")
        guard let d = Double(t.replacingOccurrences(of: "_", with: "")) else { throw mismatch(type, "a number", t) }
        guard d.isFinite else { throw mismatch(type, "a finite number", t) }
        return d
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let (t, _) = try text(expecting: "a whole number")
        guard let v = T(t.replacingOccurrences(of: "_", with: "")) else {
            if let d = Double(t), d == d.rounded() {
                throw mismatch(type, "a whole number within \(T.min)...\(T.max)", t)
            }
            throw mismatch(type, "a whole number", t)
        }
        return v
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self is any CaseIterable.Type, T.self is any RawRepresentable.Type {
            // Enums decode from their raw string; say which values are allowed when it fails.
            do {
                return try T(from: NodeDecoder(node: node, codingPath: codingPath, session: session))
            } catch {
                let allowed = Self.allowedValues(of: T.self)
                let found = (try? decode(String.self)) ?? describe(node)
                var message = "expected one of \(allowed.joined(separator: ", ")), found '\(found)'"
                if let s = Suggestion.nearest(to: found, in: allowed) { message += "; did you mean '\(s)'?" }
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
            }
        }
        return try T(from: NodeDecoder(node: node, codingPath: codingPath, session: session))
    }

    static func allowedValues<T>(of type: T.Type) -> [String] {
        guard let iterable = type as? any CaseIterable.Type else { return [] }
        return values(iterable)
    }

    private static func values<C: CaseIterable>(_ type: C.Type) -> [String] {
        C.allCases.compactMap { ($0 as? any RawRepresentable)?.rawValue as? String }
    }
}
