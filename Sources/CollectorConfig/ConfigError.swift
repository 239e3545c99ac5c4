/// A problem in configuration, located as precisely as the YAML allows:
/// `collector.yaml:12:5: sinks[1] (json-file): unknown key 'pth'; did you mean 'path'?`
public struct ConfigError: Error, Sendable, CustomStringConvertible, Hashable {
    public var file: String
    public var line: Int?
    public var column: Int?
    /// Where in the document: `sinks[1].batch.max_events`, or a description like `sinks[1] (json-file)`.
    public var context: String
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, context: String = "", message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.context = context
        self.message = message
    }

    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return context.isEmpty ? "\(location): \(message)" : "\(location): \(context): \(message)"
    }
}

/// Every problem found in a configuration, so that one run of `validate` lists them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    /// How many problems are listed one by one; the rest are counted.
    public static let listed = 50

    public var description: String {
        let noun = errors.count == 1 ? "problem" : "problems"
        var lines = errors.prefix(Self.listed).map { "  \($0)" }
        if errors.count > Self.listed { lines.append("  … and \(errors.count - Self.listed) more (fix these first)") }
        return "\(errors.count) configuration \(noun):\n" + lines.joined(separator: "\n")
    }
}
