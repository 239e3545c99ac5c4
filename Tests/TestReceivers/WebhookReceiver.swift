public import CollectorCore
public import CollectorTesting
public import Foundation

#if canImport(Glibc)
    public import Glibc
#endif

/// The Python receiver in webhook_receiver.py, started on loopback, over HTTP or (with `tls`)
/// HTTPS with a certificate for `localhost` from a test CA (``caFile``). While the file
/// ``failFile`` exists it answers every request with 500 (an outage the test controls).
public final class WebhookReceiver: @unchecked Sendable {
    public let directory = TemporaryDirectory(prefix: "webhook-test")
    public let pid: pid_t
    public let port: Int
    public let tls: Bool

    public init(
        secrets: [String], githubSecret: String? = nil, failFirst: Int = 0, rejectIDs: [String] = [], tls: Bool = false
    ) async throws {
        self.tls = tls
        if tls { try TestCertificates.make(in: directory.path, serverNames: "DNS:localhost") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "webhook_receiver.py"
        ).path
        pid = try RsyslogReceiver.spawn(
            // python3 from PATH: the one `scripts/install-deps.sh` installed standardwebhooks for.
            "/usr/bin/env",
            [
                "python3", script, directory.path, secrets.joined(separator: ","), githubSecret ?? "-",
                String(failFirst), rejectIDs.joined(separator: ","), tls ? directory.path : "-",
            ],
            log: directory.file("receiver.log"))
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: directory.file("port"), encoding: .utf8), let p = Int(text) {
                found = p
                break
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        guard let found else {
            throw ReceiverError(
                "webhook receiver did not start: \((try? String(contentsOfFile: directory.file("receiver.log"), encoding: .utf8)) ?? "")"
            )
        }
        port = found
    }

    public var failFile: String { directory.file("fail") }

    public var url: String { tls ? "https://localhost:\(port)/hooks/graph" : "http://127.0.0.1:\(port)/hooks/graph" }

    /// The test CA that signed the receiver's certificate (with `tls`).
    public var caFile: String { directory.file("ca.pem") }

    public struct Attempt: Sendable {
        public var id: String
        public var status: Int
        public var valid: Bool
        public var auth: String
        /// What the `standardwebhooks` package said (nil: no `whsec_` secret to check).
        public var standard: Bool?
        /// The client's address and port: requests on one keep-alive connection share it.
        public var connection: String
    }

    public func attempts() throws -> [Attempt] {
        guard let text = try? String(contentsOfFile: directory.file("attempts.jsonl"), encoding: .utf8) else {
            return []
        }
        return try text.split(separator: "\n").map { line in
            let j = try JSONParser.parse(String(line))
            if case .bool(let valid)? = j["valid"] {
                var standard: Bool?
                if case .bool(let b)? = j["standard"] { standard = b }
                return Attempt(
                    id: j["id"]?.stringValue ?? "", status: j["status"]?.intValue ?? 0, valid: valid,
                    auth: j["auth"]?.stringValue ?? "", standard: standard,
                    connection: j["connection"]?.stringValue ?? "")
            }
            return Attempt(id: "", status: 0, valid: false, auth: "", standard: nil, connection: "")
        }
    }

    /// Accepted events with the webhook-id of the request that carried them.
    public func events() throws -> [(id: String, event: Event)] {
        guard let text = try? String(contentsOfFile: directory.file("events.ndjson"), encoding: .utf8) else {
            return []
        }
        return try text.split(separator: "\n").map { line in
            let j = try JSONParser.parse(String(line))
            return (j["webhook_id"]?.stringValue ?? "", try Event(json: j["event"]!))
        }
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        directory.remove()
    }
}
