import CollectorCore
import CollectorTesting
import Foundation
import GraphSecuritySource
import GraphSimulator
import GzipStream
import TestReceivers

#if canImport(Glibc)
    import Glibc
#endif

/// Alert keys (`kind/id`: v1 and v2 alerts may share an id) found in NDJSON bytes (json-file
/// lines, webhook receiver lines): the first `"kind":` and `"id":` values of every alert line.
func alertIDs(ndjson bytes: [UInt8], into ids: inout [String]) {
    let kindKeys: [[UInt8]] = [Array("\"kind\":\"".utf8), Array("\"kind\": \"".utf8)]
    let idKeys: [[UInt8]] = [Array("\"id\":\"".utf8), Array("\"id\": \"".utf8)]
    let alertMarks: [[UInt8]] = [Array("\"event_type\":\"alert\"".utf8), Array("\"event_type\": \"alert\"".utf8)]
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count {
            let rest = raw.count - offset
            let newline = memchr(base + offset, 0x0A, rest)
            let lineLength = newline.map { base.distance(to: UnsafeRawPointer($0)) - offset } ?? rest
            let line = base + offset
            let isAlert = alertMarks.contains { mark in find(mark, in: line, length: lineLength) != nil }
            func value(_ keys: [[UInt8]]) -> String? {
                for key in keys {
                    guard let found = find(key, in: line, length: lineLength) else { continue }
                    let start = found + key.count
                    var end = start
                    while end < lineLength && line.load(fromByteOffset: end, as: UInt8.self) != 0x22 { end += 1 }
                    return String(
                        decoding: UnsafeRawBufferPointer(start: line + start, count: end - start), as: UTF8.self)
                }
                return nil
            }
            if isAlert, let id = value(idKeys) { ids.append("\(value(kindKeys) ?? "?")/\(id)") }
            offset += lineLength + 1
        }
    }
}

func files(under directory: String, suffix: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
    return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(suffix) }.sorted().map { "\(directory)/\($0)" }
}

func read(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map { Array($0) } ?? [] }

func jsonFileIDs(_ directory: String) -> [String] {
    var ids: [String] = []
    for file in files(under: directory, suffix: ".ndjson") { alertIDs(ndjson: read(file), into: &ids) }
    return ids
}

func archiveIDs(_ directory: String) throws -> [String] {
    var ids: [String] = []
    for file in files(under: directory, suffix: ".gz") {
        alertIDs(ndjson: try GzipDecoder.decompress(read(file)), into: &ids)
    }
    return ids
}

/// Alert keys in rsyslog's output: the LEEF `alertId` attribute of every message (the cases
/// that use rsyslog collect alerts_v2 only).
func rsyslogIDs(_ receiver: RsyslogReceiver) -> [String] {
    let key = Array("alertId=".utf8)
    var ids: [String] = []
    let bytes = read(receiver.output)
    bytes.withUnsafeBytes { raw in
        guard let base = raw.baseAddress else { return }
        var offset = 0
        while offset < raw.count, let found = find(key, in: base + offset, length: raw.count - offset) {
            var i = offset + found + key.count
            let start = i
            while i < raw.count {
                let c = raw[i]
                guard
                    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D
                        || c == 0x5F || c == 0x2E
                else { break }
                i += 1
            }
            ids.append("alert_v2/" + String(decoding: raw[start..<i], as: UTF8.self))
            offset = i
        }
    }
    return ids
}

/// Waits until `count()` stops growing (a receiver still writing what it got) or reaches `target`.
func settle(target: Int, timeout: Duration = .seconds(60), _ count: () -> Int) async -> Int {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var last = -1
    var stableSince = clock.now
    while clock.now < deadline {
        let n = count()
        if n >= target { return n }
        if n != last {
            last = n
            stableSince = clock.now
        }
        if clock.now - stableSince > .seconds(5) { return n }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return count()
}
