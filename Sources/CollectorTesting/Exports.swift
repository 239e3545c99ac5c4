@_exported import CollectorCore
