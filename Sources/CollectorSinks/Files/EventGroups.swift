import CollectorCore
import EventFormats

/// A batch's events by the file they go to, for the sinks that write files (json-file,
/// gzip-archive): the path template rendered with each event and its time, files in the order
/// they first appear, each file's events as lines of the sink's format in batch order.
struct EventGroups {
    struct Group {
        let relative: String
        var lines: [UInt8]
        /// The events themselves, when the sink keeps per-file facts (an archive's time range).
        var events: [Event]
    }

    private(set) var groups: [Group] = []

    init(
        _ batch: [Event], path: PathTemplate, timeSource: JSONFileSink.TimeSource, encoder: any EventEncoding,
        now: Timestamp = .now(), keepingEvents: Bool = false
    ) {
        var index: [String: Int] = [:]
        for event in batch {
            let time = timeSource == .event ? (event.time ?? now) : now
            let relative = path.render(event: event, time: time)
            let i: Int
            if let found = index[relative] {
                i = found
            } else {
                i = groups.count
                index[relative] = i
                var lines: [UInt8] = []
                lines.reserveCapacity(64 * 1024)
                groups.append(Group(relative: relative, lines: lines, events: []))
            }
            encoder.encode(event, into: &groups[i].lines)
            groups[i].lines.append(0x0A)
            if keepingEvents { groups[i].events.append(event) }
        }
    }
}
