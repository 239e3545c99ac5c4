import CNats

extension JetStreamConnection {
    /// A stream as a sink wants it: created when missing, checked when it exists.
    public struct StreamSpecification: Sendable, Equatable {
        public var name: String
        public var subjects: [String]
        public var replicas: Int
        /// How long messages are kept; nil keeps them until other limits remove them.
        public var maxAge: Duration?
        /// How long the stream remembers a `Nats-Msg-Id` to drop a repeat of it.
        public var duplicateWindow: Duration

        public init(name: String, subjects: [String], replicas: Int, maxAge: Duration?, duplicateWindow: Duration) {
            self.name = name
            self.subjects = subjects
            self.replicas = replicas
            self.maxAge = maxAge
            self.duplicateWindow = duplicateWindow
        }
    }

    /// What ``ensureStream(_:)`` found.
    public enum StreamCheck: Sendable, Equatable {
        case created
        case matches
        /// The stream exists with these subjects, but other settings differ from the
        /// configuration (its operators own it, so it is used as it is).
        case differs([String])
    }

    /// Creates the stream, or checks the one of that name: it must take exactly the configured
    /// subjects. Other differences are returned, not changed.
    public func ensureStream(_ wanted: StreamSpecification) throws(NatsError) -> StreamCheck {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        let status = js_GetStreamInfo(&info, context, wanted.name, nil, &code)
        if status == NATS_NOT_FOUND {
            try create(wanted)
            return .created
        }
        try check("looking up stream '\(wanted.name)'", status, code: code)
        guard let info else { return .matches }
        defer { jsStreamInfo_Destroy(info) }
        guard let config = info.pointee.Config else { return .matches }
        let subjects = (0..<Int(config.pointee.SubjectsLen)).compactMap { i in
            config.pointee.Subjects[i].map { String(cString: $0) }
        }
        guard Set(subjects) == Set(wanted.subjects) else {
            throw NatsError(
                operation: "checking stream '\(wanted.name)'",
                status:
                    "it exists with subjects \(subjects) but this sink's stream.subjects are \(wanted.subjects); "
                    + "make them the same, or name another stream",
                isTransient: false)
        }
        var differences: [String] = []
        if Int(config.pointee.Replicas) != wanted.replicas {
            differences.append("replicas \(config.pointee.Replicas) (configured \(wanted.replicas))")
        }
        if config.pointee.MaxAge != (wanted.maxAge?.nanoseconds ?? 0) {
            differences.append(
                "max_age \(config.pointee.MaxAge / 1_000_000_000)s (configured \(wanted.maxAge.map { "\($0)" } ?? "none"))"
            )
        }
        if config.pointee.Duplicates != wanted.duplicateWindow.nanoseconds {
            let shorter = config.pointee.Duplicates < wanted.duplicateWindow.nanoseconds
            differences.append(
                "duplicate_window \(config.pointee.Duplicates / 1_000_000_000)s (configured \(wanted.duplicateWindow))"
                    + (shorter ? ": a resend later than that is stored twice" : ""))
        }
        return differences.isEmpty ? .matches : .differs(differences)
    }

    private func create(_ wanted: StreamSpecification) throws(NatsError) {
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var code = jsErrCode(0)
        let status = withCStrings(wanted.subjects) { list, count in
            cnats_add_stream(
                &info, context, wanted.name, list, Int32(count), Int64(wanted.replicas),
                wanted.maxAge?.nanoseconds ?? 0, wanted.duplicateWindow.nanoseconds, &code)
        }
        if let info { jsStreamInfo_Destroy(info) }
        guard status == NATS_OK else {
            var error = NatsError("creating stream '\(wanted.name)' for \(wanted.subjects)", status, code: code)
            if NatsError.configurationCodes.contains(Int(code.rawValue)) { error.isTransient = false }
            throw error
        }
    }

    /// Every stream's name and subjects, to tell which stream a subject would land in.
    public func streamSubjects() throws(NatsError) -> [String: [String]] {
        var list: UnsafeMutablePointer<jsStreamInfoList>?
        var code = jsErrCode(0)
        let status = js_Streams(&list, context, nil, &code)
        if status == NATS_NOT_FOUND { return [:] }
        try check("listing the streams", status, code: code)
        guard let list else { return [:] }
        defer { jsStreamInfoList_Destroy(list) }
        var out: [String: [String]] = [:]
        for i in 0..<Int(list.pointee.Count) {
            guard let config = list.pointee.List[i]?.pointee.Config, let name = config.pointee.Name else { continue }
            out[String(cString: name)] = (0..<Int(config.pointee.SubjectsLen)).compactMap { j in
                config.pointee.Subjects[j].map { String(cString: $0) }
            }
        }
        return out
    }
}
