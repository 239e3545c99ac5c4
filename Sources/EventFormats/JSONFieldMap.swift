public import CollectorCore

/// The field map of the JSON formats (OCSF, ECS), as LEEF and CEF have one: built-in fields
/// renamed or left out by their dotted path (`finding_info.desc`, `host.name`), and fields added
/// from the alert's raw Graph document by JSON pointer.
public struct JSONFieldMap: Sendable, Hashable {
    /// Dotted path → new dotted path, or nil to leave the field out.
    public var renamed: [String: String?]
    /// Dotted path ← JSON pointer into the raw Graph document (alerts only).
    public var added: [AddedField]

    public struct AddedField: Sendable, Hashable {
        public var path: String
        public var pointer: JSONPointer

        public init(path: String, pointer: JSONPointer) {
            self.path = path
            self.pointer = pointer
        }
    }

    public init(renamed: [String: String?] = [:], added: [AddedField] = []) {
        self.renamed = renamed
        self.added = added
    }

    public var isEmpty: Bool { renamed.isEmpty && added.isEmpty }

    /// The document with the map applied; `raw` is the alert's Graph document (nil for others).
    public func apply(to document: JSONValue, raw: RawJSON?) -> JSONValue {
        var result = document
        // Every renamed value is taken out first, so that two fields can swap places.
        var moved: [(String, JSONValue)] = []
        for (path, target) in renamed.sorted(by: { $0.key < $1.key }) {
            let keys = path.split(separator: ".").map(String.init)
            guard let value = Self.remove(keys, from: &result) else { continue }
            if let target { moved.append((target, value)) }
        }
        for (target, value) in moved {
            Self.set(value, at: target.split(separator: ".").map(String.init), in: &result)
        }
        if let raw {
            for field in added {
                // JSON null is left out: the JSON formats do not accept it.
                guard let value = field.pointer.resolve(in: raw), value != .null else { continue }
                Self.set(value, at: field.path.split(separator: ".").map(String.init), in: &result)
            }
        }
        return result
    }

    static func remove(_ keys: [String], from value: inout JSONValue) -> JSONValue? {
        guard let first = keys.first, case .object(var members) = value,
            let index = members.firstIndex(where: { $0.0 == first })
        else { return nil }
        if keys.count == 1 {
            let removed = members.remove(at: index).1
            value = .object(members)
            return removed
        }
        var child = members[index].1
        let removed = remove(Array(keys.dropFirst()), from: &child)
        if case .object(let rest) = child, rest.isEmpty {
            members.remove(at: index)
        } else {
            members[index].1 = child
        }
        value = .object(members)
        return removed
    }

    static func set(_ new: JSONValue, at keys: [String], in value: inout JSONValue) {
        guard let first = keys.first else { return }
        var members: [(String, JSONValue)]
        if case .object(let existing) = value { members = existing } else { members = [] }
        let index = members.firstIndex { $0.0 == first }
        if keys.count == 1 {
            if let index { members[index].1 = new } else { members.append((first, new)) }
        } else {
            var child = index.map { members[$0].1 } ?? .object([])
            set(new, at: Array(keys.dropFirst()), in: &child)
            if let index { members[index].1 = child } else { members.append((first, child)) }
        }
        value = .object(members)
    }
}
