import CCurl
import Synchronization

final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Per-transfer state the C callbacks reach through their userdata pointer.
final class Transfer {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var requestBody: [UInt8]
    var uploadOffset = 0
    let limit: Int
    var tooLarge = false
    let cancel: CancelFlag
    let onSend: (@Sendable () -> Void)?

    init(limit: Int, requestBody: [UInt8], cancel: CancelFlag, onSend: (@Sendable () -> Void)? = nil) {
        self.limit = limit
        self.requestBody = requestBody
        self.cancel = cancel
        self.onSend = onSend
    }
}

extension Transfer {
    /// Sizes the body once from an uncompressed response's `Content-Length`, instead of doubling
    /// it as it arrives: a 2.7 MB page would otherwise take 4 MiB, and 6 while it is copied.
    func reserveBody(header name: String, value: String) {
        guard body.isEmpty, name.lowercased() == "content-length", let length = Int(value), length > 0,
            length <= limit, !headers.contains(where: { $0.name.lowercased() == "content-encoding" })
        else { return }
        body.reserveCapacity(length)
    }

    /// Points libcurl's body, header, upload, sending and progress callbacks at `transfer`, which must
    /// outlive the transfer. A set cancel flag or a body over the limit ends the transfer.
    static func install(on h: UnsafeMutableRawPointer, _ transfer: Transfer, uploading: Bool) {
        let userdata = Unmanaged.passUnretained(transfer).toOpaque()
        _ = ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, userdata)
        _ = ccurl_setopt_data_callback(h, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if t.cancel.isSet { return 0 }
            if t.body.count + n > t.limit {
                t.tooLarge = true
                return 0
            }
            t.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
            return n
        }
        _ = ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, userdata)
        _ = ccurl_setopt_data_callback(h, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            // Strip the line ending as bytes ("\r\n" is one Character in Swift).
            var raw = UnsafeRawBufferPointer(start: data, count: n)[...]
            while let last = raw.last, last == 0x0A || last == 0x0D { raw = raw.dropLast() }
            let trimmed = String(decoding: raw, as: UTF8.self)
            if trimmed.hasPrefix("HTTP/") {
                t.headers = []  // a new response (after 100-continue or a redirect)
            } else if let first = trimmed.first, first == " " || first == "\t", !t.headers.isEmpty {
                // obs-fold: a continuation of the previous header's value.
                t.headers[t.headers.count - 1].value += " " + trimmed.drop { $0 == " " || $0 == "\t" }
            } else if let colon = trimmed.firstIndex(of: ":") {
                let name = String(trimmed[..<colon])
                let value = String(trimmed[trimmed.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
                t.headers.append((name, value))
                t.reserveBody(header: name, value: value)
            }
            return n
        }
        if uploading {
            _ = ccurl_setopt_pointer(h, CURLOPT_READDATA, userdata)
            _ = ccurl_setopt_data_callback(h, CURLOPT_READFUNCTION) { buffer, size, count, user in
                let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
                let n = min(size * count, t.requestBody.count - t.uploadOffset)
                t.requestBody.withUnsafeBytes { raw in
                    if n > 0 {
                        UnsafeMutableRawPointer(buffer!).copyMemory(
                            from: raw.baseAddress! + t.uploadOffset, byteCount: n)
                    }
                }
                t.uploadOffset += n
                return n
            }
        }
        if transfer.onSend != nil {
            _ = ccurl_setopt_pointer(h, CURLOPT_PREREQDATA, userdata)
            _ = ccurl_setopt_prereq_callback(h) { user, _, _, _, _ in
                Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue().onSend?()
                return CURL_PREREQFUNC_OK
            }
        }
        _ = ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = ccurl_setopt_pointer(h, CURLOPT_XFERINFODATA, userdata)
        _ = ccurl_setopt_xferinfo_callback(h) { user, _, _, _, _ in
            let t = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
            return t.cancel.isSet ? 1 : 0
        }
    }
}
