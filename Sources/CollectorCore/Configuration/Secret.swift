/// A configuration value that must never be printed: a client secret, a password, a token.
/// Its description is `<redacted>`, so logging a configuration cannot leak it. Read the value
/// with ``reveal()`` where it is used, and nowhere else.
public struct Secret: Sendable, Hashable, Decodable, CustomStringConvertible, CustomDebugStringConvertible {
    private let value: String

    public init(_ value: String) { self.value = value }

    public init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func reveal() -> String { value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
