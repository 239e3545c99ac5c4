import CCurl
import CollectorSystem
import Synchronization

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
