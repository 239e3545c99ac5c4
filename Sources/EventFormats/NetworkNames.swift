#if canImport(Glibc)
    import Glibc
#endif

/// Checks for values that schemas type strictly (an IP address field that does not hold one makes
/// Elasticsearch refuse the whole document, and OCSF's validator the event), and file paths as
/// the formats write them.
enum NetworkNames {
    /// A path that is a directory (alerts_v2 gives one) joined with the file's name; a path that
    /// already ends in the name is kept.
    static func fullPath(_ path: String?, _ name: String?) -> String? {
        guard let path, !path.isEmpty else { return nil }
        guard let name, !name.isEmpty, !path.hasSuffix(name) else { return path }
        // Bytes, not `contains("\\")`: with Foundation loaded that is a slow NSString search.
        let separator = path.utf8.contains(0x5C) ? "\\" : "/"
        return path.hasSuffix(separator) ? path + name : path + separator + name
    }

    /// An IPv4 or IPv6 address (by `inet_pton`), at most 40 characters (OCSF's `ip_t`).
    static func isIPAddress(_ text: String) -> Bool {
        guard text.utf8.count <= 40 else { return false }
        var v6 = in6_addr()
        return isIPv4(text) || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// A dotted-quad IPv4 address.
    static func isIPv4(_ text: String) -> Bool {
        var v4 = in_addr()
        return inet_pton(AF_INET, text, &v4) == 1
    }

    /// A DNS host name: labels of letters, digits and hyphens (and underscores unless refused),
    /// 1–253 bytes.
    static func isHostname(_ text: String, underscores: Bool = true) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy {
                    ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D
                        || ($0 == 0x5F && underscores)
                }
        }
    }
}
