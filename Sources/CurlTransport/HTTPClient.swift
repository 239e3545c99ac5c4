import CCurl
import Synchronization
import CollectorSystem

/// Settings shared by every request of a client.
package struct HTTPClientConfiguration: Sendable {
    package var connectTimeout: Duration = .seconds(10)
    /// The whole request, connect to last byte.
    package var timeout: Duration = .seconds(60)
    /// Proxy URL (`http://proxy:3128`), with credentials inside if needed.
    package var proxy: String?
    /// Hosts that bypass the proxy (`localhost,.internal`).
    package var noProxy: String?
    /// A PEM bundle of CA certificates to trust instead of the system's.
    package var caFile: String?
    /// Verify the server's certificate and host name. Turn off only for a lab.
    package var verifyTLS = true
    /// Larger bodies fail with ``HTTPClientError/Kind/bodyTooLarge(limit:)``.
    package var maxBodySize = 64 * 1024 * 1024
    /// A client certificate and key (PEM) for mutual TLS.
    package var clientCertificateFile: String?
    package var clientKeyFile: String?
    package var userAgent = "graph-collector/0.1"
    /// Connections (and threads) used concurrently.
    package var connections = 4

    package init() {}
}

/// An async HTTP client over libcurl's easy interface.
///
/// Each connection is an easy handle owned by a worker with its own thread, so blocking
/// `curl_easy_perform` never runs on Swift's cooperative pool; handles are reused, so
/// connections stay alive between requests (HTTP/2 when the server offers it over TLS).
/// Cancelling the calling task aborts the transfer.
package final class HTTPClient: Sendable {
    private let workers: [CurlWorker]
    private let next = Mutex(0)
    package let configuration: HTTPClientConfiguration

    package init(configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        _ = CurlLibrary.initialized
        self.configuration = configuration
        workers = (0..<max(1, configuration.connections)).map { CurlWorker(index: $0, configuration: configuration) }
    }

    package func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let worker = next.withLock { n -> CurlWorker in
            n += 1
            return workers[n % workers.count]
        }
        let cancel = CancelFlag()
        let result = await withTaskCancellationHandler {
            await worker.perform(request, cancel: cancel)
        } onCancel: {
            cancel.set()
        }
        return try result.get()
    }

    /// Stops the worker threads once their current requests finish.
    package func shutdown() async {
        for w in workers { await w.shutdown() }
    }
}

final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Per-transfer state the C callbacks reach through their userdata pointer.
final class Transfer {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var requestBody: [UInt8]
    var uploadOffset = 0
    let limit: Int
    var tooLarge = false
    let cancel: CancelFlag

    init(limit: Int, requestBody: [UInt8], cancel: CancelFlag) {
        self.limit = limit
        self.requestBody = requestBody
        self.cancel = cancel
    }
}

actor CurlWorker {
    private let executor: DedicatedThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var handle: UnsafeMutableRawPointer?
    private let configuration: HTTPClientConfiguration
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init(index: Int, configuration: HTTPClientConfiguration) {
        self.configuration = configuration
        self.executor = DedicatedThreadExecutor(name: "curl-\(index)")
    }

    func shutdown() {
        if let handle { curl_easy_cleanup(handle) }
        handle = nil
        executor.shutdown()
    }

    func perform(_ request: HTTPRequest, cancel: CancelFlag) -> Result<HTTPResponse, HTTPClientError> {
        if handle == nil { handle = curl_easy_init() }
        guard let h = handle else {
            return .failure(HTTPClientError(kind: .other, code: -1, message: "curl_easy_init failed", url: request.url))
        }
        curl_easy_reset(h)
        let transfer = Transfer(limit: configuration.maxBodySize, requestBody: request.body ?? [], cancel: cancel)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        func ms(_ d: Duration) -> Int {
            let c = d.components
            return Int(c.seconds) * 1000 + Int(c.attoseconds / 1_000_000_000_000_000)
        }
        _ = ccurl_setopt_string(h, CURLOPT_URL, request.url)
        _ = ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, ms(configuration.connectTimeout))
        _ = ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, ms(configuration.timeout))
        _ = ccurl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, "")  // every encoding libcurl can decode
        _ = ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
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

        switch request.method {
        case "GET": _ = ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "POST":
            _ = ccurl_setopt_long(h, CURLOPT_POST, 1)
            _ = ccurl_setopt_off_t(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(transfer.requestBody.count))
        default:
            _ = ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
            if request.body != nil {
                _ = ccurl_setopt_long(h, CURLOPT_UPLOAD, 1)
                _ = ccurl_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(transfer.requestBody.count))
            }
        }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        if request.body != nil { headerList = curl_slist_append(headerList, "Expect:") }
        if let headerList { _ = ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList) }

        let userdata = Unmanaged.passUnretained(transfer).toOpaque()
        _ = ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, userdata)
        _ = ccurl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if t.cancel.isSet { return 0 }
            if t.body.count + n > t.limit {
                t.tooLarge = true
                return 0
            }
            t.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
            return n
        }
        _ = ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, userdata)
        _ = ccurl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            // Strip the line ending as bytes ("\r\n" is one Character in Swift).
            var raw = UnsafeRawBufferPointer(start: data, count: n)[...]
            while let last = raw.last, last == 0x0A || last == 0x0D { raw = raw.dropLast() }
            let trimmed = String(decoding: raw, as: UTF8.self)
            if trimmed.hasPrefix("HTTP/") {
                t.headers = []  // a new response (after 100-continue or a redirect)
            } else if let first = trimmed.first, first == " " || first == "\t", !t.headers.isEmpty {
                // obs-fold: a continuation of the previous header's value.
                t.headers[t.headers.count - 1].value += " " + trimmed.drop { $0 == " " || $0 == "\t" }
            } else if let colon = trimmed.firstIndex(of: ":") {
                let name = String(trimmed[..<colon])
                let value = String(trimmed[trimmed.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
                t.headers.append((name, value))
            }
            return n
        }
        if request.body != nil {
            _ = ccurl_setopt_pointer(h, CURLOPT_READDATA, userdata)
            _ = ccurl_setopt_data_callback(h, CURLOPT_READFUNCTION) { buffer, size, count, user in
                let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = min(size * count, t.requestBody.count - t.uploadOffset)
                t.requestBody.withUnsafeBytes { raw in
                    buffer!.withMemoryRebound(to: UInt8.self, capacity: n) { dst in
                        for i in 0..<n { dst[i] = raw[t.uploadOffset + i] }
                    }
                }
                t.uploadOffset += n
                return n
            }
        }
        _ = ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = ccurl_setopt_pointer(h, CURLOPT_XFERINFODATA, userdata)
        _ = ccurl_setopt_xferinfo_callback(h) { user, _, _, _, _ in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            return t.cancel.isSet ? 1 : 0
        }
        errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            return withExtendedLifetime(transfer) { curl_easy_perform(h) }
        }
        _ = ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil)

        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            let kind: HTTPClientError.Kind
            if transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
                kind = .bodyTooLarge(limit: configuration.maxBodySize)
            } else if cancel.isSet {
                kind = .cancelled
            } else {
                switch code {
                case CURLE_OPERATION_TIMEDOUT: kind = .timeout
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_RECV_ERROR,
                     CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE:
                    kind = .connect
                case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
                    kind = .tls
                default: kind = .other
                }
            }
            return .failure(HTTPClientError(kind: kind, code: Int32(code.rawValue), message: message, url: request.url))
        }
        var status = 0
        _ = ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var urlPointer: UnsafeMutablePointer<CChar>?
        _ = ccurl_getinfo_string(h, CURLINFO_EFFECTIVE_URL, &urlPointer)
        var version = 0
        _ = ccurl_getinfo_long(h, CURLINFO_HTTP_VERSION, &version)
        return .success(HTTPResponse(
            status: status, headers: transfer.headers, body: transfer.body,
            effectiveURL: urlPointer.map { String(cString: $0) } ?? request.url,
            httpVersion: version == Int(CURL_HTTP_VERSION_2_0) ? "HTTP/2" : "HTTP/1.1"))
    }
}
