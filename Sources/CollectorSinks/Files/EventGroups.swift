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
        for (relative, indices) in Self.partition(batch, path: path, timeSource: timeSource, now: now) {
            var group = Group(relative: relative, lines: [], events: [])
            group.lines.reserveCapacity(64 * 1024)
            for i in indices {
                encoder.encode(batch[i], into: &group.lines)
                group.lines.append(0x0A)
                if keepingEvents { group.events.append(batch[i]) }
            }
            groups.append(group)
        }
    }

    /// The positions in `batch` of each file's events, files in the order they first appear.
    static func partition(
        _ batch: [Event], path: PathTemplate, timeSource: JSONFileSink.TimeSource, now: Timestamp = .now()
    ) -> [(relative: String, indices: [Int])] {
        var index: [String: Int] = [:]
        var files: [(relative: String, indices: [Int])] = []
        for i in batch.indices {
            let time = timeSource == .event ? (batch[i].time ?? now) : now
            let relative = path.render(event: batch[i], time: time)
            if let found = index[relative] {
                files[found].indices.append(i)
            } else {
                index[relative] = files.count
                files.append((relative, [i]))
            }
        }
        return files
    }
}
