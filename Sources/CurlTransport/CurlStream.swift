import CCurl

#if canImport(Glibc)
    import Glibc
#endif

/// A raw byte stream over TCP or TLS, opened by libcurl in `CONNECT_ONLY` mode and written with
/// `curl_easy_send`: TLS with certificate verification, client certificates and keep-alive
/// without a second TLS stack. Blocking: use it from a dedicated thread, never from Swift's
/// cooperative pool. Not thread-safe.
package final class CurlStream {
    package struct Options: Sendable {
        package var host: String
        package var port: Int
        package var tls: Bool
        package var caFile: String?
        package var clientCertificateFile: String?
        package var clientKeyFile: String?
        package var verifyPeer: Bool
        /// The name the server certificate must carry when it differs from `host`.
        package var serverName: String?
        package var connectTimeout: Duration
        /// TCP keep-alive idle time and probe interval; nil turns keep-alive off.
        package var keepAlive: Duration?

        package init(
            host: String, port: Int, tls: Bool, caFile: String? = nil, clientCertificateFile: String? = nil,
            clientKeyFile: String? = nil, verifyPeer: Bool = true, serverName: String? = nil,
            connectTimeout: Duration = .seconds(10), keepAlive: Duration? = .seconds(60)
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.caFile = caFile
            self.clientCertificateFile = clientCertificateFile
            self.clientKeyFile = clientKeyFile
            self.verifyPeer = verifyPeer
            self.serverName = serverName
            self.connectTimeout = connectTimeout
            self.keepAlive = keepAlive
        }
    }

    package struct StreamError: Error, Sendable, CustomStringConvertible {
        package var message: String
        /// Bytes of the failed send that did reach the socket.
        package var bytesSent: Int
        package var description: String { message }
    }

    private var handle: UnsafeMutableRawPointer?
    private var connectTo: UnsafeMutablePointer<curl_slist>?
    package let options: Options
    package private(set) var socket: Int32 = -1

    /// Connects (and for TLS, completes the handshake and verification).
    package init(options: Options) throws(StreamError) {
        self.options = options
        guard let h = curl_easy_init() else { throw StreamError(message: "curl_easy_init failed", bytesSent: 0) }
        handle = h
        func bracket(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
        let name = options.serverName ?? options.host
        let url = "\(options.tls ? "https" : "http")://\(bracket(name)):\(options.port)/"
        _ = ccurl_setopt_string(h, CURLOPT_URL, url)
        _ = ccurl_setopt_long(h, CURLOPT_CONNECT_ONLY, 1)
        _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(
            h, CURLOPT_CONNECTTIMEOUT_MS,
            Int(
                options.connectTimeout.components.seconds * 1000
                    + options.connectTimeout.components.attoseconds / 1_000_000_000_000_000))
        _ = ccurl_setopt_string(h, CURLOPT_NOPROXY, "*")
        if let keepAlive = options.keepAlive {
            let seconds = max(1, Int(keepAlive.components.seconds))
            _ = ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
            _ = ccurl_setopt_long(h, CURLOPT_TCP_KEEPIDLE, seconds)
            _ = ccurl_setopt_long(h, CURLOPT_TCP_KEEPINTVL, max(1, seconds / 3))
        }
        if options.serverName != nil {
            connectTo = curl_slist_append(
                nil, "\(bracket(name)):\(options.port):\(bracket(options.host)):\(options.port)")
            _ = ccurl_setopt_slist(h, CURLOPT_CONNECT_TO, connectTo)
        }
        if options.tls {
            _ = ccurl_setopt_long(h, CURLOPT_SSL_ENABLE_ALPN, 0)
            _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, options.verifyPeer ? 1 : 0)
            _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, options.verifyPeer ? 2 : 0)
            if let ca = options.caFile { _ = ccurl_setopt_string(h, CURLOPT_CAINFO, ca) }
            if let cert = options.clientCertificateFile { _ = ccurl_setopt_string(h, CURLOPT_SSLCERT, cert) }
            if let key = options.clientKeyFile { _ = ccurl_setopt_string(h, CURLOPT_SSLKEY, key) }
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            defer { _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil) }
            return curl_easy_perform(h)
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            close()
            throw StreamError(
                message: "connect to \(options.host):\(options.port)\(options.tls ? " (TLS)" : ""): "
                    + (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail), bytesSent: 0)
        }
        socket = ccurl_active_socket(h)
        guard socket >= 0 else {
            close()
            throw StreamError(
                message: "connect to \(options.host):\(options.port): libcurl reported no socket", bytesSent: 0)
        }
    }

    deinit { close() }

    package func close() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        if let connectTo { curl_slist_free_all(connectTo) }
        connectTo = nil
        socket = -1
    }

    package var isOpen: Bool { handle != nil }

    /// Sends every byte or throws; waits for the socket to accept more for at most `timeout`
    /// at a time.
    package func send(_ bytes: [UInt8], timeout: Duration) throws(StreamError) {
        guard let h = handle else { throw StreamError(message: "connection is closed", bytesSent: 0) }
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            var sent = 0
            let code = bytes.withUnsafeBytes { raw in
                curl_easy_send(h, raw.baseAddress! + offset, raw.count - offset, &sent)
            }
            if code == CURLE_OK {
                offset += sent
                continue
            }
            if code == CURLE_AGAIN {
                // TLS may need to read (a renegotiation, a session ticket) before it can write.
                let left = deadline - ContinuousClock.now
                let leftMs = Int32(
                    clamping: max(
                        0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
                var descriptor = pollfd(fd: socket, events: Int16(POLLOUT | POLLIN), revents: 0)
                let ready = leftMs == 0 ? 0 : poll(&descriptor, 1, leftMs)
                if ready > 0 && (descriptor.revents & Int16(POLLOUT)) == 0 && (descriptor.revents & Int16(POLLIN)) != 0
                {
                    // Readable but not writable: let curl process what arrived, without spinning.
                    usleep(1000)
                }
                if ready == 0 {
                    throw StreamError(
                        message: "the receiver accepted no data for \(timeout) (send buffer full)", bytesSent: offset)
                }
                if ready < 0 && errno != EINTR {
                    throw StreamError(message: "poll: \(String(cString: strerror(errno)))", bytesSent: offset)
                }
                continue
            }
            throw StreamError(message: String(cString: curl_easy_strerror(code)), bytesSent: offset)
        }
    }

    /// Whether the peer has closed or reset the connection. Reads and discards anything the
    /// receiver sent (syslog receivers send nothing). Does not block.
    package func peerHasClosed() -> Bool {
        guard let h = handle else { return true }
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            var received = 0
            let code = buffer.withUnsafeMutableBytes { curl_easy_recv(h, $0.baseAddress, $0.count, &received) }
            if code == CURLE_AGAIN { return false }
            if code != CURLE_OK { return true }
            if received == 0 { return true }
        }
    }

    /// Bytes sent but not yet acknowledged by the peer's TCP stack, or nil when unknown.
    package func unacknowledgedBytes() -> Int? {
        guard socket >= 0 else { return nil }
        let n = ccurl_unacknowledged_bytes(socket)
        return n < 0 ? nil : Int(n)
    }
}
