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

final class Workspace {
    let directory = TemporaryDirectory(prefix: "fault-injection")
    var mounts: [String] = []
    func path(_ name: String) -> String { directory.file(name) }

    /// A tmpfs of `size` mounted at `name`.
    func mountTmpfs(_ name: String, size: String) throws -> String {
        let target = path(name)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        let r = shell("mount -t tmpfs -o size=\(size) graph-collector-fault \(target)")
        guard r.status == 0 else { throw ReceiverError("cannot mount a tmpfs at \(target): \(r.output)") }
        mounts.append(target)
        return target
    }

    func remount(_ target: String, readOnly: Bool) throws {
        let r = shell("mount -o remount,\(readOnly ? "ro" : "rw") \(target)")
        guard r.status == 0 else {
            throw ReceiverError("cannot remount \(target) \(readOnly ? "read-only" : "read-write"): \(r.output)")
        }
    }

    func cleanUp(keep: Bool) {
        for m in mounts.reversed() { _ = shell("umount -l \(m)") }
        if keep { say("  kept: \(directory.path)") } else { directory.remove() }
    }
}
