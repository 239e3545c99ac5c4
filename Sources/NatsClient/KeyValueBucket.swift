import CNats

/// A JetStream key-value bucket: values with revisions, written only if the revision is still
/// the one read (`update`) or the key is new (`create`), which is what leases and fenced
/// checkpoints are built on. Blocking calls, like the connection's.
public final class KeyValueBucket: @unchecked Sendable {
    /// A key's value and the revision that wrote it.
    public struct Entry: Sendable, Equatable {
        public var value: [UInt8]
        public var revision: UInt64
        /// When the server stored this revision, in nanoseconds since 1970.
        public var created: Int64
    }

    public let name: String
    let store: OpaquePointer
    /// Keeps the connection (and its JetStream context) alive as long as the bucket.
    let connection: JetStreamConnection

    /// Opens the bucket, creating it when missing (unless `create` is false): `ttl` removes a
    /// key not written for that long (nil keeps keys), `replicas` copies of it on the cluster.
    public init(connection: JetStreamConnection, name: String, ttl: Duration?, replicas: Int, create: Bool = true)
        throws(NatsError)
    {
        var store: OpaquePointer?
        try check(
            "opening key-value bucket '\(name)'",
            cnats_key_value(&store, connection.context, name, ttl?.nanoseconds ?? 0, Int32(replicas), create))
        guard let store else { throw NatsError(operation: "opening key-value bucket '\(name)'", status: "no bucket") }
        self.name = name
        self.store = store
        self.connection = connection
    }

    deinit { kvStore_Destroy(store) }

    /// The bucket's TTL as the server keeps it (nil: keys do not expire), which may not be the
    /// one asked for when the bucket existed already.
    public func ttl() throws(NatsError) -> Duration? {
        var status: OpaquePointer?
        try check("reading the settings of bucket '\(name)'", kvStore_Status(&status, store))
        guard let status else { return nil }
        defer { kvStatus_Destroy(status) }
        let nanoseconds = kvStatus_TTL(status)
        return nanoseconds > 0 ? .nanoseconds(nanoseconds) : nil
    }

    /// The key's value, or nil when it has none (never written, deleted or expired).
    public func get(_ key: String) throws(NatsError) -> Entry? {
        var entry: OpaquePointer?
        let status = kvStore_Get(&entry, store, key)
        if status == NATS_NOT_FOUND { return nil }
        try check("reading '\(name)/\(key)'", status)
        guard let entry else { return nil }
        defer { kvEntry_Destroy(entry) }
        let count = Int(kvEntry_ValueLen(entry))
        let value = kvEntry_Value(entry).map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
        return Entry(value: value, revision: kvEntry_Revision(entry), created: kvEntry_Created(entry))
    }

    /// Writes the key only if it has no value; nil when it has one (another writer was first).
    public func create(_ key: String, _ value: [UInt8]) throws(NatsError) -> UInt64? {
        var revision: UInt64 = 0
        let status = value.withUnsafeBytes { kvStore_Create(&revision, store, key, $0.baseAddress, Int32($0.count)) }
        return try conditional("creating '\(name)/\(key)'", status, revision)
    }

    /// Writes the key only if `revision` is still its latest; nil when it is not (someone else
    /// wrote it since, or it expired).
    public func update(_ key: String, _ value: [UInt8], revision: UInt64) throws(NatsError) -> UInt64? {
        var written: UInt64 = 0
        let status = value.withUnsafeBytes {
            kvStore_Update(&written, store, key, $0.baseAddress, Int32($0.count), revision)
        }
        return try conditional("updating '\(name)/\(key)'", status, written)
    }

    /// Writes the key whatever it held.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) throws(NatsError) -> UInt64 {
        var revision: UInt64 = 0
        try check(
            "writing '\(name)/\(key)'",
            value.withUnsafeBytes { kvStore_Put(&revision, store, key, $0.baseAddress, Int32($0.count)) })
        return revision
    }

    public func delete(_ key: String) throws(NatsError) {
        try check("deleting '\(name)/\(key)'", kvStore_Delete(store, key))
    }

    /// Every key with a value.
    public func keys() throws(NatsError) -> [String] {
        var list = kvKeysList()
        let status = kvStore_Keys(&list, store, nil)
        if status == NATS_NOT_FOUND { return [] }
        try check("listing the keys of '\(name)'", status)
        defer { kvKeysList_Destroy(&list) }
        return (0..<Int(list.Count)).compactMap { i in list.Keys[i].map { String(cString: $0) } }
    }

    /// A conditional write's outcome: the revision, nil when the condition failed (JetStream's
    /// "wrong last sequence", 10071), or the error.
    private func conditional(_ operation: String, _ status: natsStatus, _ revision: UInt64) throws(NatsError)
        -> UInt64?
    {
        guard status != NATS_OK else { return revision }
        let error = NatsError(operation, status)
        let text = "\(error.status) \(error.detail ?? "")".lowercased()
        if text.contains("wrong last sequence") || text.contains("10071") || text.contains("key exists") {
            return nil
        }
        throw error
    }
}
