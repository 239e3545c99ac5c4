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

/// Output goes straight to the file descriptor, line by line, even when piped.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
