import CCurl

/// One request on its way through the ``CurlEngine``: the easy-handle options, the state libcurl's
/// callbacks fill in, and the continuation of the task waiting for it.
///
/// Built by the calling task; from ``CurlEngine/submit(_:)`` on, touched only by the engine's thread.
final class CurlJob: @unchecked Sendable {
    let request: HTTPRequest
    let configuration: HTTPClientConfiguration
    /// The ``HTTPClient`` it belongs to, whose `connections` bound its transfers in flight.
    let client: Int
    /// The client's bound on its transfers in flight.
    let limit: Int
    let transfer: Transfer
    var continuation: CheckedContinuation<Result<HTTPResponse, HTTPClientError>, Never>?
    private(set) var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init(request: HTTPRequest, configuration: HTTPClientConfiguration, client: Int, cancel: CancelFlag) {
        self.request = request
        self.configuration = configuration
        self.client = client
        self.limit = max(1, configuration.connections)
        self.transfer = Transfer(
            limit: configuration.maxBodySize, requestBody: request.body ?? [], cancel: cancel,
            onSend: request.onSend)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Sets every option of this request on `h` (reset first), which the job then holds until ``detach()``.
    func attach(to h: UnsafeMutableRawPointer) {
        curl_easy_reset(h)
        handle = h
        setConnectionOptions(h, url: request.url)
        headerList = setRequest(h, request, bodySize: transfer.requestBody.count)
        Transfer.install(on: h, transfer, uploading: request.body != nil)
        _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    /// Gives the easy handle back (for reuse); the job's buffers stay valid until it is released.
    func detach() -> UnsafeMutableRawPointer? {
        if let handle { _ = ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil) }
        defer { handle = nil }
        return handle
    }

    /// What the finished transfer comes to: a response, or a classified failure.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard code == CURLE_OK, let h = handle else { return .failure(failure(code)) }
        return .success(response(h))
    }

    /// The request ends without a transfer (cancelled while it waited for a connection slot).
    var cancelled: HTTPClientError {
        HTTPClientError(
            kind: .cancelled, code: Int32(CURLE_ABORTED_BY_CALLBACK.rawValue), message: "cancelled",
            url: request.url)
    }

    /// Timeouts, TLS verification, proxy, limits: the same for every request of a client.
    private func setConnectionOptions(_ h: UnsafeMutableRawPointer, url: String) {
        func ms(_ d: Duration) -> Int {
            let c = d.components
            return Int(c.seconds) * 1000 + Int(c.attoseconds / 1_000_000_000_000_000)
        }
        _ = ccurl_setopt_string(h, CURLOPT_URL, url)
        _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, ms(configuration.connectTimeout))
        _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, ms(configuration.timeout))
        _ = ccurl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl can decode
        _ = ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        // Wait for a connection that can multiplex (HTTP/2) rather than open another one. Only
        // over TLS, where HTTP/2 is negotiated at the handshake: over plain http libcurl learns
        // nothing until a new connection's first response, and held the parallel requests that
        // long (1.3 s behind their rate-limit permits in a backfill against the simulator).
        if url.prefix(8).lowercased() == "https://" { _ = ccurl_setopt_long(h, CURLOPT_PIPEWAIT, 1) }
        _ = ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        _ = ccurl_setopt_string(h, CURLOPT_USERAGENT, configuration.userAgent)
        _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        _ = ccurl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        if let ca = configuration.caFile { _ = ccurl_setopt_string(h, CURLOPT_CAINFO, ca) }
        if let cert = configuration.clientCertificateFile { _ = ccurl_setopt_string(h, CURLOPT_SSLCERT, cert) }
        if let key = configuration.clientKeyFile { _ = ccurl_setopt_string(h, CURLOPT_SSLKEY, key) }
        if let proxy = configuration.proxy { _ = ccurl_setopt_string(h, CURLOPT_PROXY, proxy) }
        if let noProxy = configuration.noProxy { _ = ccurl_setopt_string(h, CURLOPT_NOPROXY, noProxy) }
        _ = ccurl_setopt_long(h, CURLOPT_MAXFILESIZE_LARGE, configuration.maxBodySize)
    }

    /// The method, body size and headers; returns the header list to free after the transfer.
    private func setRequest(
        _ h: UnsafeMutableRawPointer, _ request: HTTPRequest, bodySize: Int
    ) -> UnsafeMutablePointer<curl_slist>? {
        switch request.method {
        case "GET": _ = ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "POST":
            _ = ccurl_setopt_long(h, CURLOPT_POST, 1)
            _ = ccurl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodySize))
        default:
            _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
            if request.body != nil {
                _ = ccurl_setopt_long(h, CURLOPT_UPLOAD, 1)
                _ = ccurl_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(bodySize))
            }
        }
        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        if request.body != nil { headerList = curl_slist_append(headerList, "Expect:") }
        if let headerList { _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList) }
        return headerList
    }

    /// A failed transfer, classified (the caller decides what is worth a retry).
    private func failure(_ code: CURLcode) -> HTTPClientError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let kind: HTTPClientError.Kind
        if transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            kind = .bodyTooLarge(limit: configuration.maxBodySize)
        } else if transfer.cancel.isSet {
            kind = .cancelled
        } else {
            switch code {
            case CURLE_OPERATION_TIMEDOUT: kind = .timeout
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_RECV_ERROR,
                CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
                kind = .connect
            case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE,
                CURLE_SSL_CERTPROBLEM:
                kind = .tls
            default: kind = .other
            }
        }
        return HTTPClientError(kind: kind, code: Int32(code.rawValue), message: message, url: request.url)
    }

    private func response(_ h: UnsafeMutableRawPointer) -> HTTPResponse {
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var urlPointer: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(h, CURLINFO_EFFECTIVE_URL, &urlPointer)
        var version = 0
        _ = ccurl_getinfo_long(h, CURLINFO_HTTP_VERSION, &version)
        return HTTPResponse(
            status: status, headers: transfer.headers, body: transfer.body,
            effectiveURL: urlPointer.map { String(cString: $0) } ?? request.url,
            httpVersion: version == Int(CURL_HTTP_VERSION_2_0) ? "HTTP/2" : "HTTP/1.1")
    }
}
