import CCurl

/// Facts about the libcurl this binary is linked against, for `graph-collector version` and
/// for support requests.
package enum CurlLibrary {
    /// Initializes libcurl once per process (it is not thread-safe to do concurrently).
    package static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    /// `libcurl 7.88.1 (OpenSSL/3.0.x, zlib/1.2.13, HTTP/2)`-style summary.
    package static var versionSummary: String {
        _ = initialized
        guard let info = ccurl_version_info() else { return "libcurl (unknown version)" }
        var parts: [String] = []
        if let ssl = info.pointee.ssl_version { parts.append(String(cString: ssl)) }
        if let z = info.pointee.libz_version { parts.append("zlib/" + String(cString: z)) }
        if info.pointee.features & CURL_VERSION_HTTP2 != 0 { parts.append("HTTP/2") }
        let version = info.pointee.version.map { String(cString: $0) } ?? "?"
        return "libcurl \(version) (\(parts.joined(separator: ", ")))"
    }

    /// Whether the linked libcurl can speak the given protocol (`https`, `smtp`, …).
    package static func supports(protocol name: String) -> Bool {
        _ = initialized
        guard let info = ccurl_version_info(), var list = info.pointee.protocols else { return false }
        while let p = list.pointee {
            if String(cString: p) == name { return true }
            list += 1
        }
        return false
    }
}
