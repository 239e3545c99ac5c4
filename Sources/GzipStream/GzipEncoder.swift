import CZlib

/// Streaming gzip (RFC 1952) compression with zlib: feed bytes, take compressed bytes out.
///
/// Each ``finish()`` ends a complete gzip member, and members may be concatenated in one file
/// (`zcat` reads them all), which is how the archive sink keeps a file readable after a crash.
/// ``syncFlush()`` byte-aligns the output so everything fed so far can be decompressed.
package final class GzipEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 64 * 1024)
    private var finished = false

    /// - Parameter level: 0 (store) to 9 (smallest); 6 is gzip's default.
    package init(level: Int32 = 6) throws(GzipError) {
        // zlib keeps a pointer back to the stream, so the z_stream must not move: heap-allocate it.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = czlib_deflate_init2(stream, level, 15 + 16, 8)
        guard rc == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw GzipError(code: rc, operation: "deflateInit2")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input`; returns whatever compressed output is ready (possibly none).
    package func compress(_ input: [UInt8]) throws(GzipError) -> [UInt8] {
        try run(input, flush: Z_NO_FLUSH)
    }

    /// Everything fed so far, decodable by a reader, without ending the member.
    package func syncFlush() throws(GzipError) -> [UInt8] {
        try run([], flush: Z_SYNC_FLUSH)
    }

    /// Ends the gzip member (trailer with CRC-32 and length). The encoder can start another
    /// member afterwards.
    package func finish() throws(GzipError) -> [UInt8] {
        let out = try run([], flush: Z_FINISH)
        let rc = deflateReset(stream)
        guard rc == Z_OK else { throw GzipError(code: rc, operation: "deflateReset") }
        return out
    }

    private func run(_ input: [UInt8], flush: Int32) throws(GzipError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(input.count / 4 + 64)
        let outputCount = output.count
        var failure: GzipError?
        // zlib only reads from next_in (it is not const for historical reasons): no copy of the input.
        input.withUnsafeBufferPointer { inBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.pointee.avail_in = UInt32(inBuffer.count)
            repeat {
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(outputCount)
                    let rc = deflate(stream, flush)
                    if rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR {
                        failure = GzipError(code: rc, operation: "deflate")
                        return
                    }
                    let produced = outputCount - Int(stream.pointee.avail_out)
                    result.append(contentsOf: outBuffer[0..<produced])
                }
            } while failure == nil && stream.pointee.avail_out == 0
            stream.pointee.next_in = nil
        }
        if let failure { throw failure }
        return result
    }
}

/// Decompresses gzip data, including several concatenated members, as `zcat` does.
package enum GzipDecoder {
    package static func decompress(_ data: [UInt8]) throws(GzipError) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        var rc = czlib_inflate_init2(stream, 15 + 32)
        guard rc == Z_OK else { throw GzipError(code: rc, operation: "inflateInit2") }
        var result: [UInt8] = []
        var output = [UInt8](repeating: 0, count: 64 * 1024)
        var input = data
        var failure: GzipError?
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = UInt32(inBuffer.count)
            while failure == nil {
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(outBuffer.count)
                    rc = inflate(stream, Z_NO_FLUSH)
                    result.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.pointee.avail_out))])
                }
                if rc == Z_STREAM_END {
                    if stream.pointee.avail_in == 0 { break }
                    rc = inflateReset(stream)  // another member follows
                    if rc != Z_OK { failure = GzipError(code: rc, operation: "inflateReset") }
                } else if rc != Z_OK {
                    failure = GzipError(
                        code: rc, operation: stream.pointee.avail_in == 0 ? "inflate (truncated input)" : "inflate")
                } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 {
                    failure = GzipError(code: Z_BUF_ERROR, operation: "inflate (truncated input)")
                }
            }
        }
        if let failure { throw failure }
        return result
    }
}

/// A zlib call failed.
package struct GzipError: Error, Sendable, CustomStringConvertible {
    package var code: Int32
    package var operation: String
    package var description: String { "zlib \(operation) failed (code \(code))" }
}

/// The zlib version linked in.
package var zlibVersionString: String { String(cString: zlibVersion()) }

extension GzipDecoder {
    /// The result of reading concatenated gzip members until the first damaged or incomplete one.
    package struct MemberScan: Sendable {
        /// Bytes of input made of complete, valid members (CRC and length checked by zlib).
        package var validLength: Int
        /// Their decompressed content.
        package var content: [UInt8]
        /// Complete members found.
        package var members: Int
        /// Why the scan stopped before the end of the input, or nil when every byte was valid.
        package var problem: String?
    }

    /// Reads members one by one and stops at the first that does not end cleanly: how a file
    /// cut short by a crash is measured before it is truncated back to its last good member.
    package static func scanMembers(_ data: [UInt8]) -> MemberScan {
        var scan = MemberScan(validLength: 0, content: [], members: 0, problem: nil)
        guard !data.isEmpty else { return scan }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard czlib_inflate_init2(stream, 15 + 16) == Z_OK else {
            scan.problem = "inflateInit2 failed"
            return scan
        }
        var output = [UInt8](repeating: 0, count: 64 * 1024)
        var memberContent: [UInt8] = []
        var input = data
        input.withUnsafeMutableBufferPointer { inBuffer in
            stream.pointee.next_in = inBuffer.baseAddress
            stream.pointee.avail_in = UInt32(inBuffer.count)
            while true {
                var rc: Int32 = Z_OK
                output.withUnsafeMutableBufferPointer { outBuffer in
                    stream.pointee.next_out = outBuffer.baseAddress
                    stream.pointee.avail_out = UInt32(outBuffer.count)
                    rc = inflate(stream, Z_NO_FLUSH)
                    memberContent.append(contentsOf: outBuffer[0..<(outBuffer.count - Int(stream.pointee.avail_out))])
                }
                if rc == Z_STREAM_END {
                    scan.members += 1
                    scan.validLength = data.count - Int(stream.pointee.avail_in)
                    scan.content.append(contentsOf: memberContent)
                    memberContent.removeAll(keepingCapacity: true)
                    if stream.pointee.avail_in == 0 { return }
                    guard inflateReset(stream) == Z_OK else {
                        scan.problem = "inflateReset failed"
                        return
                    }
                } else if rc != Z_OK && rc != Z_BUF_ERROR {
                    scan.problem = "damaged data after byte \(scan.validLength) (zlib code \(rc))"
                    return
                } else if stream.pointee.avail_in == 0 {
                    scan.problem = "incomplete member after byte \(scan.validLength)"
                    return
                }
            }
        }
        return scan
    }
}
