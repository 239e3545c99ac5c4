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
    /// Transfers of this client in flight at once (each on its own connection, or a stream of a
    /// shared HTTP/2 connection); more wait their turn.
    package var connections = 4

    package init() {}
}

/// An async HTTP client over libcurl.
///
/// Every client's transfers run on the process's one ``CurlEngine`` thread (libcurl's multi
/// interface), which keeps connections alive between requests and multiplexes HTTP/2 when the
/// server offers it over TLS; nothing blocks Swift's cooperative pool, and a thousand clients
/// cost no more threads than one. At most `connections` transfers of a client are in flight; the
/// others wait in arrival order. Cancelling the calling task aborts its transfer.
package final class HTTPClient: Sendable {
    private static let nextIdentity = Atomic(0)
    private let identity: Int
    private let engine: CurlEngine
    package let configuration: HTTPClientConfiguration

    package init(configuration: HTTPClientConfiguration = HTTPClientConfiguration(), engine: CurlEngine = .shared) {
        self.configuration = configuration
        self.engine = engine
        identity = Self.nextIdentity.add(1, ordering: .relaxed).newValue
    }

    package func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let cancel = CancelFlag()
        let job = CurlJob(request: request, configuration: configuration, client: identity, cancel: cancel)
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                job.continuation = continuation
                engine.submit(job)
            }
        } onCancel: {
            cancel.set()
            engine.cancel(job)
        }
        return try result.get()
    }

    /// Kept for callers that end a client explicitly; transfers end with their callers, and
    /// connections stay in the engine's cache for the next client.
    package func shutdown() async {}
}
