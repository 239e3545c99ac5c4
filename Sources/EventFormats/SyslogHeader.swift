public import CollectorCore

/// The syslog header written in front of each payload.
public struct SyslogHeader: Sendable, Hashable {
    public enum Style: String, Sendable, Hashable, CaseIterable, Decodable {
        /// RFC 5424 in full: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - ` then the payload.
        case rfc5424
        /// The shape IBM documents for LEEF over RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME ` then the
        /// payload. QRadar routes on HOSTNAME; this is the default for LEEF.
        case rfc5424Minimal = "rfc5424-minimal"
        /// RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: ` then the payload.
        case rfc3164
        /// No header: the payload alone.
        case none
    }

    /// Syslog facilities by name (RFC 5424 §6.2.1).
    public static let facilities: [String: Int] = [
        "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
        "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
        "solaris-cron": 15, "local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20,
        "local5": 21, "local6": 22, "local7": 23,
    ]
    /// Syslog severities by name (RFC 5424 §6.2.1).
    public static let severities: [String: Int] = [
        "emergency": 0, "alert": 1, "critical": 2, "error": 3, "warning": 4, "notice": 5, "informational": 6,
        "debug": 7,
    ]

    public var style: Style
    /// 0–23.
    public var facility: Int
    /// The host the events are said to come from; QRadar's log source identifier.
    public var hostname: String
    /// RFC 5424 APP-NAME, RFC 3164 TAG.
    public var appName: String
    /// RFC 5424 PROCID (our process id by default).
    public var processID: String
    /// Graph severity (lowercase) to syslog severity 0–7, for alerts.
    public var severityMap: [String: Int]

    /// high → critical (2), medium → error (3), low → warning (4), informational → informational (6), unknown → notice (5).
    public static let defaultSeverityMap: [String: Int] = [
        "high": 2, "medium": 3, "low": 4, "informational": 6, "unknown": 5,
    ]

    public init(
        style: Style = .rfc5424Minimal, facility: Int = 16, hostname: String, appName: String = "graph-collector",
        processID: String = "-", severityMap: [String: Int] = SyslogHeader.defaultSeverityMap
    ) {
        self.style = style
        self.facility = facility
        self.hostname = hostname
        self.appName = appName
        self.processID = processID
        self.severityMap = severityMap
    }

    /// Problems with the settings, one message each.
    public func problems() -> [String] {
        var out: [String] = []
        if !(0...23).contains(facility) { out.append("facility \(facility) is outside 0–23") }
        func printable(_ s: String) -> Bool { s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }
        if style != .none {
            if hostname.isEmpty || hostname.utf8.count > 255 || !printable(hostname) {
                out.append("hostname '\(hostname)' must be 1–255 printable ASCII characters without spaces")
            }
        }
        if style == .rfc5424 && (appName.isEmpty || appName.utf8.count > 48 || !printable(appName)) {
            out.append("app_name '\(appName)' must be 1–48 printable ASCII characters without spaces (RFC 5424)")
        }
        if style == .rfc3164
            && (appName.utf8.count > 32
                || !appName.unicodeScalars.allSatisfy({
                    $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
                }))
        {
            out.append("app_name '\(appName)' must be at most 32 letters, digits, '-', '_' or '.' (RFC 3164 TAG)")
        }
        for (name, severity) in severityMap.sorted(by: { $0.key < $1.key }) where !(0...7).contains(severity) {
            out.append("syslog_severity_map.\(name): \(severity) is outside 0–7")
        }
        return out
    }

    /// The syslog severity of an event.
    public func severity(of event: Event) -> Int {
        switch event {
        case .alert(let a): return severityMap[a.severity.rawValue.lowercased()] ?? 5
        case .providerWarning(let w): return w.isPersistent ? 3 : 4
        case .health(let h):
            switch h.level {
            case .info: return 6
            case .warning: return 4
            case .error: return 3
            case .critical: return 2
            }
        }
    }

    /// The header bytes for an event sent at `time`, including the space before the payload.
    public func render(for event: Event, at time: Timestamp) -> [UInt8] {
        var out: [UInt8] = []
        append(for: event, stamp: stamp(at: time), to: &out)
        return out
    }

    /// The TIMESTAMP field for messages sent at `time` (the same for a whole batch): RFC 3339
    /// with milliseconds, or RFC 3164's `Mmm dd hh:mm:ss`.
    public func stamp(at time: Timestamp) -> [UInt8] {
        switch style {
        case .none: return []
        case .rfc5424, .rfc5424Minimal:
            var out: [UInt8] = []
            time.appendISO8601(fractionDigits: 3, to: &out)
            return out
        case .rfc3164:
            let c = time.utcComponents
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let day = c.day < 10 ? " \(c.day)" : "\(c.day)"
            return Array(
                "\(JavaDateFormat.months[c.month - 1]) \(day) \(two(c.hour)):\(two(c.minute)):\(two(c.second))".utf8)
        }
    }

    /// Appends the header of one event, given the batch's ``stamp(at:)``, including the space
    /// before the payload.
    public func append(for event: Event, stamp: [UInt8], to out: inout [UInt8]) {
        if style == .none { return }
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: String(facility * 8 + severity(of: event)).utf8)
        out.append(UInt8(ascii: ">"))
        if style != .rfc3164 { out.append(contentsOf: "1 ".utf8) }
        out.append(contentsOf: stamp)
        out.append(0x20)
        out.append(contentsOf: hostname.utf8)
        out.append(0x20)
        switch style {
        case .rfc5424:
            out.append(contentsOf: appName.utf8)
            out.append(0x20)
            out.append(contentsOf: processID.utf8)
            out.append(0x20)
            switch event {
            case .alert: out.append(contentsOf: "alert".utf8)
            case .providerWarning: out.append(contentsOf: "provider_warning".utf8)
            case .health: out.append(contentsOf: "collector_health".utf8)
            }
            out.append(contentsOf: " - ".utf8)
        case .rfc3164 where !appName.isEmpty:
            out.append(contentsOf: appName.utf8)
            if processID != "-" {
                out.append(UInt8(ascii: "["))
                out.append(contentsOf: processID.utf8)
                out.append(UInt8(ascii: "]"))
            }
            out.append(contentsOf: ": ".utf8)
        default: break
        }
    }
}

/// How messages are delimited on a stream (TCP or TLS).
public enum SyslogFraming: String, Sendable, Hashable, CaseIterable, Decodable {
    /// RFC 6587 §3.4.1 / RFC 5425: `MSG-LEN SP SYSLOG-MSG`. Any byte may appear in a message.
    case octetCounting = "octet-counting"
    /// RFC 6587 §3.4.2 non-transparent framing: the message then LF.
    case lf

    /// Appends one framed message.
    public func frame(_ message: [UInt8], into out: inout [UInt8]) {
        switch self {
        case .octetCounting:
            out.append(contentsOf: String(message.count).utf8)
            out.append(0x20)
            out.append(contentsOf: message)
        case .lf:
            out.append(contentsOf: message)
            out.append(0x0A)
        }
    }
}
