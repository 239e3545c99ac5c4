import CollectorSystem
import GzipStream

/// Builds gzip members on two threads: the caller's serializes the next chunk of events while a
/// worker thread compresses the chunk before, so an archive sink runs at zlib's pace rather than
/// at zlib's plus the encoder's.
final class PipelinedCompressor: @unchecked Sendable {
    /// What the worker produced; read by the caller after ``WorkerThread/waitUntilIdle()``.
    private final class Output: @unchecked Sendable {
        var bytes: [UInt8] = []
        var failure: GzipError?
    }

    private let level: Int32
    private var encoder: GzipEncoder
    private let worker: WorkerThread

    init(level: Int32, name: String) throws {
        self.level = level
        encoder = try GzipEncoder(level: level)
        worker = WorkerThread(name: name)
    }

    /// One complete gzip member of `chunks` chunks: `produce(i, &buffer)` writes chunk `i` on this
    /// thread while the worker compresses chunk `i - 1`. Returns the member and how many bytes
    /// went in. After a failure the next member starts on a fresh stream.
    func member(chunks: Int, produce: (Int, inout [UInt8]) -> Void) throws(GzipError) -> (
        bytes: [UInt8], uncompressed: Int
    ) {
        let output = Output()
        let encoder = self.encoder
        var uncompressed = 0
        var capacity = 64 * 1024
        for i in 0..<chunks {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(capacity)
            produce(i, &chunk)
            uncompressed += chunk.count
            capacity = max(capacity, chunk.count + chunk.count / 8)
            worker.submit { [chunk] in
                guard output.failure == nil else { return }
                do throws(GzipError) { output.bytes += try encoder.compress(chunk) } catch { output.failure = error }
            }
        }
        worker.submit {
            guard output.failure == nil else { return }
            do throws(GzipError) { output.bytes += try encoder.finish() } catch { output.failure = error }
        }
        worker.waitUntilIdle()
        if let failure = output.failure {
            if let fresh = try? GzipEncoder(level: level) { self.encoder = fresh }
            throw failure
        }
        return (output.bytes, uncompressed)
    }

    /// Ends the worker thread.
    func shutdown() { worker.shutdown() }

    deinit { worker.shutdown() }
}
