import Foundation
import NatsClient
import TestReceivers
import Testing

/// What leases and fenced checkpoints rely on, against a real nats-server: conditional writes
/// refused when someone else wrote first, and keys that expire when nobody writes them.
@Suite(.serialized) struct KeyValueBucketTests {
    static func connect(_ cluster: NatsCluster) throws -> JetStreamConnection {
        try JetStreamConnection(
            settings: NatsSettings(servers: cluster.urls, name: "kv-test"), maxPending: 16, ackTimeout: .seconds(5))
    }

    @Test func conditionalWritesTakeTurnsByRevision() async throws {
        let cluster = try NatsCluster()
        try await cluster.waitUntilReady()
        let a = try KeyValueBucket(connection: try Self.connect(cluster), name: "kv", ttl: nil, replicas: 1)
        let b = try KeyValueBucket(connection: try Self.connect(cluster), name: "kv", ttl: nil, replicas: 1)
        #expect(try a.get("lease.x") == nil)
        let first = try #require(try a.create("lease.x", Array("a".utf8)))
        #expect(try b.create("lease.x", Array("b".utf8)) == nil, "the second creator loses")
        let seen = try #require(try b.get("lease.x"))
        #expect(seen.value == Array("a".utf8) && seen.revision == first)
        let renewed = try #require(try a.update("lease.x", Array("a".utf8), revision: first))
        #expect(try b.update("lease.x", Array("b".utf8), revision: first) == nil, "a stale revision loses")
        #expect(try b.update("lease.x", Array("b".utf8), revision: renewed) != nil)
        #expect(try a.update("lease.x", Array("a".utf8), revision: renewed) == nil)
        try a.put("instance.1", [])
        #expect(Set(try b.keys()) == ["lease.x", "instance.1"])
        try a.delete("instance.1")
        #expect(try b.get("instance.1") == nil)
        #expect(try b.create("instance.1", Array("again".utf8)) != nil, "a deleted key can be created again")
    }

    @Test func aKeyNobodyWritesExpiresAndCanBeTakenAgain() async throws {
        let cluster = try NatsCluster()
        try await cluster.waitUntilReady()
        let a = try KeyValueBucket(connection: try Self.connect(cluster), name: "leases", ttl: .seconds(1), replicas: 1)
        _ = try #require(try a.create("lease.t", Array("a".utf8)))
        let start = ContinuousClock.now
        while try a.get("lease.t") != nil {
            #expect(ContinuousClock.now - start < .seconds(10), "the key should expire after its TTL")
            if ContinuousClock.now - start > .seconds(10) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let expiredAfter = ContinuousClock.now - start
        #expect(expiredAfter >= .milliseconds(900), "not before its TTL: \(expiredAfter)")
        #expect(try a.create("lease.t", Array("b".utf8)) != nil)
    }
}
