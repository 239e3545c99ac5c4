public import CollectorCore

/// Parses the `Warning` header of a Graph Security 206 Partial Content answer.
///
/// Each item is a warn-value (RFC 7234 §5.5): `warn-code SP warn-agent SP warn-text [SP warn-date]`,
/// items separated by commas, and the header may repeat. Graph's text is
/// `"{Vendor}/{Provider}/{StatusCode}/{LatencyInMs}"`; provider names contain spaces
/// (`Microsoft Defender ATP`) and, in the wild, the text is sometimes in single quotes.
public enum WarningHeader {
    /// One failing provider, as the header named it.
    public struct Item: Sendable, Hashable {
        public var code: Int
        public var agent: String
        public var vendor: String
        public var provider: String
        public var status: Int
        public var latencyMilliseconds: Int?
        /// The item as it stood in the header.
        public var raw: String
    }

    /// A piece of the header that is not a well-formed item: reported, never fatal.
    public struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        public var text: String
        public var problem: String
        public var description: String { "\(problem): \(text)" }
    }

    /// Parses every value of every `Warning` header line.
    public static func parse(_ values: [String]) -> (items: [Item], malformed: [Malformed]) {
        var items: [Item] = []
        var malformed: [Malformed] = []
        for value in values {
            var scanner = Scanner(Array(value.unicodeScalars))
            while true {
                scanner.skip { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" }
                if scanner.atEnd { break }
                let start = scanner.position
                switch scanner.warnValue() {
                case .success(let parsed):
                    let raw = scanner.text(from: start)
                    switch interpret(parsed, raw: raw) {
                    case .success(let item): items.append(item)
                    case .failure(let problem): malformed.append(problem)
                    }
                case .failure(let problem):
                    scanner.skipToNextItem()
                    malformed.append(Malformed(text: scanner.text(from: start).trimmedSpaces, problem: problem.text))
                }
            }
        }
        return (items, malformed)
    }

    struct Problem: Error { var text: String }

    struct WarnValue {
        var code: Int
        var agent: String
        var text: String
    }

    static func interpret(_ value: WarnValue, raw: String) -> Result<Item, Malformed> {
        let parts = value.text.split(separator: "/", omittingEmptySubsequences: false).map { String($0).trimmedSpaces }
        guard parts.count >= 4 else {
            return .failure(Malformed(text: raw, problem: "warn-text is not Vendor/Provider/Status/Latency"))
        }
        guard let status = Int(parts[parts.count - 2]), (100...599).contains(status) else {
            return .failure(
                Malformed(text: raw, problem: "provider status '\(parts[parts.count - 2])' is not an HTTP status"))
        }
        let latencyText = parts[parts.count - 1]
        let latency = Int(latencyText)
        if latency == nil && !latencyText.isEmpty {
            return .failure(Malformed(text: raw, problem: "latency '\(latencyText)' is not a number of milliseconds"))
        }
        let provider = parts[1..<(parts.count - 2)].joined(separator: "/")
        guard !parts[0].isEmpty, !provider.isEmpty else {
            return .failure(Malformed(text: raw, problem: "vendor or provider is empty"))
        }
        return .success(
            Item(
                code: value.code, agent: value.agent, vendor: parts[0], provider: provider, status: status,
                latencyMilliseconds: latency, raw: raw))
    }

    struct Scanner {
        let scalars: [Unicode.Scalar]
        var position = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { position >= scalars.count }
        var current: Unicode.Scalar? { atEnd ? nil : scalars[position] }

        mutating func skip(while predicate: (Unicode.Scalar) -> Bool) {
            while let c = current, predicate(c) { position += 1 }
        }

        func text(from start: Int) -> String {
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[start..<min(position, scalars.count)])
            return String(s)
        }

        /// After a bad item, continue at the next comma that is outside quotes.
        mutating func skipToNextItem() {
            var quote: Unicode.Scalar?
            while let c = current {
                if let q = quote {
                    if c == "\\" { position += 1 } else if c == q { quote = nil }
                } else if c == "\"" {
                    quote = c
                } else if c == "," {
                    return
                }
                position += 1
            }
        }

        mutating func warnValue() -> Result<WarnValue, Problem> {
            let codeStart = position
            skip { $0.properties.numericType != nil && $0.isASCII }
            let codeText = text(from: codeStart)
            guard codeText.count == 3, let code = Int(codeText) else {
                return .failure(Problem(text: "expected a three-digit warn-code"))
            }
            guard current == " " else { return .failure(Problem(text: "expected a space after the warn-code")) }
            skip { $0 == " " }
            let agentStart = position
            skip { $0 != " " && $0 != "," && $0 != "\"" }
            let agent = text(from: agentStart)
            guard !agent.isEmpty else { return .failure(Problem(text: "expected a warn-agent (such as '-')")) }
            guard current == " " else { return .failure(Problem(text: "expected a space after the warn-agent")) }
            skip { $0 == " " }
            guard let quote = current, quote == "\"" || quote == "'" else {
                return .failure(Problem(text: "expected the warn-text in quotes"))
            }
            position += 1
            var textScalars = String.UnicodeScalarView()
            var closed = false
            while let c = current {
                position += 1
                if c == "\\" && quote == "\"", let next = current {
                    textScalars.append(next)
                    position += 1
                } else if c == quote {
                    closed = true
                    break
                } else {
                    textScalars.append(c)
                }
            }
            guard closed else { return .failure(Problem(text: "the warn-text's quotes are not closed")) }
            // Optional warn-date: SP DQUOTE HTTP-date DQUOTE.
            let afterText = position
            skip { $0 == " " }
            if current == "\"" {
                position += 1
                skip { $0 != "\"" }
                guard current == "\"" else { return .failure(Problem(text: "the warn-date's quotes are not closed")) }
                position += 1
            } else {
                position = afterText
            }
            skip { $0 == " " || $0 == "\t" }
            guard atEnd || current == "," else {
                return .failure(Problem(text: "unexpected text after the warn-text"))
            }
            return .success(WarnValue(code: code, agent: agent, text: String(textScalars)))
        }
    }
}

extension String {
    var trimmedSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// What a provider's status means for the person reading the SIEM at 3 a.m.
public enum ProviderDiagnosis {
    /// Whether the failure needs a person (it will not clear by itself).
    public static func isPersistent(status: Int) -> Bool {
        status == 401 || status == 403
    }

    public static func text(status: Int, vendor: String, provider: String, endpoint: GraphEndpoint?) -> String {
        let permission = endpoint?.requiredPermission ?? "SecurityEvents.Read.All"
        let missing = "Alerts from \(vendor)/\(provider) for this query are missing from the answer."
        switch status {
        case 400:
            return
                "\(missing) The provider rejected the query as malformed (400): a $filter or $top it does not "
                + "support. Remove provider-specific terms from the source's filter."
        case 401:
            return
                "\(missing) The provider did not accept the app's token (401 Unauthorized): grant the app "
                + "registration the \(permission) application permission with admin consent, and check that the "
                + "tenant is licensed for \(provider). This will not clear by itself."
        case 403:
            return
                "\(missing) The provider refused access (403 Forbidden): the tenant is not licensed for \(provider), "
                + "or the app lacks the \(permission) application permission or admin consent. This will not clear "
                + "by itself; an administrator must fix the licence or permission."
        case 408, 504:
            return
                "\(missing) The provider timed out (\(status)); Graph waits about 10 seconds for a provider. Usually "
                + "transient: the window is queried again."
        case 429:
            return
                "\(missing) The provider is throttling requests (429). Transient: the window is queried again after "
                + "a pause."
        case 500:
            return
                "\(missing) The provider had an internal error (500). Usually transient: the window is queried "
                + "again; if it persists, open a case with Microsoft naming the provider."
        case 502, 503:
            return "\(missing) The provider is unavailable (\(status)). Usually transient: the window is queried again."
        case 500...599:
            return "\(missing) The provider failed with \(status). Usually transient: the window is queried again."
        default:
            return
                "\(missing) The provider answered \(status), which Graph does not document for providers; check the "
                + "provider's health in the Microsoft 365 Defender portal."
        }
    }

    /// A `ProviderWarning` event for one warning item.
    public static func warning(
        for item: WarningHeader.Item, query: String, endpoint: GraphEndpoint?, tenantId: String?, observedAt: Timestamp
    ) -> ProviderWarning {
        ProviderWarning(
            vendor: item.vendor, provider: item.provider, httpStatus: item.status,
            latencyMilliseconds: item.latencyMilliseconds, query: query, endpoint: endpoint?.rawValue,
            tenantId: tenantId, observedAt: observedAt,
            diagnosis: text(status: item.status, vendor: item.vendor, provider: item.provider, endpoint: endpoint),
            isPersistent: isPersistent(status: item.status), rawItem: item.raw)
    }
}
