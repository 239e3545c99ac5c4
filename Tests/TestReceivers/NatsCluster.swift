public import CollectorTesting
public import Foundation
import Synchronization

private let handedOut = Mutex<Set<Int>>([])

#if canImport(Glibc)
    public import Glibc
#endif

/// Real `nats-server` processes with JetStream on loopback: one node, or a cluster of several
/// routed to each other. Each node keeps its configuration and store, so a killed node can be
/// started again. `settings` is added to every node's configuration (TLS, authorization).
public final class NatsCluster: @unchecked Sendable {
    public struct Node: Sendable {
        public var name: String
        public var port: Int
        public var clusterPort: Int
        public var monitorPort: Int
        public var pid: pid_t = 0
    }

    public let directory = TemporaryDirectory(prefix: "nats-test")
    public private(set) var nodes: [Node] = []
    /// `tls://` when the settings turn TLS on, `nats://` otherwise.
    let scheme: String

    public init(nodes count: Int = 1, settings: String = "", tls: Bool = false) throws {
        scheme = tls ? "tls" : "nats"
        for i in 1...count {
            nodes.append(
                Node(
                    name: "n\(i)", port: try Self.unusedPort(), clusterPort: try Self.unusedPort(),
                    monitorPort: try Self.unusedPort()))
        }
        for i in nodes.indices {
            try writeConfiguration(of: i, settings: settings)
            try start(node: i)
        }
    }

    /// A free port below Linux's ephemeral range (32768-60999), where ports bound to 0 and
    /// outgoing connections come from: a node restarted on its port, or another test's
    /// receiver restarted on its own, never finds it taken by the other.
    static func unusedPort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            // Never the same port twice in one test process (a node may be down, its port free).
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if bound { return port }
        }
        throw ReceiverError("no free port between 20000 and 32000")
    }

    /// Every node's client URL, for a client to fail over between.
    public var urls: [String] { nodes.map { "\(scheme)://127.0.0.1:\($0.port)" } }
    public var urlList: String { urls.joined(separator: ",") }

    public func url(of node: Int) -> String { "\(scheme)://127.0.0.1:\(nodes[node].port)" }

    private func writeConfiguration(of i: Int, settings: String) throws {
        let node = nodes[i]
        var text = """
            server_name: \(node.name)
            listen: 127.0.0.1:\(node.port)
            http: 127.0.0.1:\(node.monitorPort)
            jetstream { store_dir: "\(directory.path)/\(node.name)" }

            """
        if nodes.count > 1 {
            let routes = nodes.filter { $0.name != node.name }.map { "nats://127.0.0.1:\($0.clusterPort)" }
            text += """
                cluster {
                  name: test
                  listen: 127.0.0.1:\(node.clusterPort)
                  routes: [\(routes.joined(separator: ", "))]
                }

                """
        }
        _ = try directory.write("\(node.name).conf", text + settings + "\n")
    }

    /// Starts a node (again).
    public func start(node i: Int) throws {
        nodes[i].pid = try RsyslogReceiver.spawn(
            "/usr/bin/env", ["nats-server", "-c", directory.file("\(nodes[i].name).conf")],
            log: directory.file("\(nodes[i].name).log"))
    }

    /// `kill -9` of a node.
    public func kill(node i: Int) {
        guard nodes[i].pid > 0 else { return }
        Glibc.kill(nodes[i].pid, SIGKILL)
        var status: Int32 = 0
        waitpid(nodes[i].pid, &status, 0)
        nodes[i].pid = 0
    }

    /// The index of a node by its server name.
    public func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Waits until every running node says it is healthy, JetStream included (`/healthz`).
    public func waitUntilReady(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        for node in nodes where node.pid > 0 {
            while await shellOffPool("curl -sf --max-time 2 http://127.0.0.1:\(node.monitorPort)/healthz").status != 0 {
                guard ContinuousClock.now < deadline else {
                    throw ReceiverError(
                        "nats-server \(node.name) not healthy within \(timeout):\n" + log(of: node.name))
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    public func log(of name: String) -> String {
        (try? String(contentsOfFile: directory.file("\(name).log"), encoding: .utf8))?.split(separator: "\n")
            .suffix(20).joined(separator: "\n") ?? ""
    }

    /// What NATS's own Python client reads from a stream: every message, counted by `Nats-Msg-Id`.
    public struct StreamCount: Sendable, Decodable {
        public var messages: Int
        public var streamMessages: Int
        public var uniqueIDs: Int
        public var repeatedIDs: Int
        public var withoutID: Int
        /// The ids read.
        public var ids: Set<String> = []

        enum CodingKeys: String, CodingKey {
            case messages
            case streamMessages = "stream_messages"
            case uniqueIDs = "unique_ids"
            case repeatedIDs = "repeated_ids"
            case withoutID = "without_id"
        }
    }

    /// Reads `stream` with nats-py (Tests/TestReceivers/nats_stream.py), from the running nodes.
    public func count(stream: String) async throws -> StreamCount {
        let idsFile = directory.file("ids-\(stream).txt")
        let output = try await python(["count", runningURLs, stream, idsFile])
        var count = try JSONDecoder().decode(StreamCount.self, from: Data(output.utf8))
        let ids = (try? String(contentsOfFile: idsFile, encoding: .utf8)) ?? ""
        count.ids = Set(ids.split(separator: "\n").map(String.init))
        return count
    }

    /// The name of the node leading `stream`, as nats-py reads it.
    public func leader(of stream: String) async throws -> String {
        try await python(["leader", runningURLs, stream]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// How many messages `stream` holds, as nats-py reads its state.
    public func messages(in stream: String) async throws -> Int {
        let text = try await python(["messages", runningURLs, stream])
        guard let n = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ReceiverError("nats_stream.py messages printed '\(text)'")
        }
        return n
    }

    /// How many messages `stream` holds, as a running node's monitoring endpoint (`/jsz`) says:
    /// for streams in accounts whose users nats-py cannot sign in as (a `.creds` user).
    public func messagesByMonitor(in stream: String) async throws -> Int {
        guard let node = nodes.first(where: { $0.pid > 0 }) else { throw ReceiverError("no node is running") }
        let url = "http://127.0.0.1:\(node.monitorPort)/jsz?accounts=true&streams=true"
        let (status, output) = await shellOffPool("curl -sf --max-time 10 '\(url)'")
        let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let accounts = json?["account_details"] as? [[String: Any]] ?? []
        let streams = accounts.flatMap { $0["stream_detail"] as? [[String: Any]] ?? [] }
        guard status == 0, let found = streams.first(where: { $0["name"] as? String == stream }),
            let messages = (found["state"] as? [String: Any])?["messages"] as? Int
        else { throw ReceiverError("/jsz has no stream \(stream): \(output.prefix(500))") }
        return messages
    }

    /// A new NATS user NKey (Tests/TestReceivers/nkey.py: openssl and the NKeys encoding): its
    /// seed written to `seedFile`, its public key returned.
    public static func makeNKey(seedFile: String) async throws -> String {
        let (status, output) = await shellOffPool("python3 '\(script("nkey.py"))' '\(seedFile)'")
        let key = output.split(separator: "\n").last.map(String.init) ?? ""
        guard status == 0, key.hasPrefix("U") else { throw ReceiverError("nkey.py failed: \(output)") }
        return key
    }

    /// An operator, an account with JetStream and a user of it, made in `directory` by
    /// Tests/TestReceivers/natsjwt.py (openssl, JWTs as `nsc` writes them): the user's
    /// `user.creds`, a `stranger.creds` of an account the server does not know, and the
    /// nats-server settings that trust the operator (for ``init(nodes:settings:tls:)``).
    public static func makeCredentials(in directory: String) async throws -> String {
        let (status, output) = await shellOffPool("timeout 60 python3 '\(script("natsjwt.py"))' '\(directory)'")
        guard status == 0, let settings = try? String(contentsOfFile: directory + "/server.conf", encoding: .utf8)
        else { throw ReceiverError("natsjwt.py failed: \(output)") }
        return settings
    }

    private var runningURLs: String {
        nodes.indices.filter { nodes[$0].pid > 0 }.map { url(of: $0) }.joined(separator: ",")
    }

    /// The path of a helper script beside this file.
    private static func script(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name).path
    }

    private func python(_ arguments: [String]) async throws -> String {
        let quoted = ([Self.script("nats_stream.py")] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let (status, output) = await shellOffPool("timeout 300 python3 \(quoted)")
        guard status == 0 else { throw ReceiverError("nats_stream.py \(arguments[0]) failed: \(output)") }
        return output.split(separator: "\n").last.map(String.init) ?? ""
    }

    public func stop() {
        for i in nodes.indices { kill(node: i) }
    }

    deinit {
        stop()
        directory.remove()
    }
}
