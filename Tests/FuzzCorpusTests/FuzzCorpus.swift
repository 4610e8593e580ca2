import Foundation
import SwitchyardFuzzEntries
import SwitchyardFuzzTargets

/// The committed seed corpora and regression inputs of `deploy/fuzz`.
enum FuzzCorpus {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy/fuzz")

    /// Every file under `deploy/fuzz/KIND/TARGET`, sorted by name.
    static func files(_ kind: String, _ target: FuzzTarget) -> [URL] {
        let folder = self.root.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func bytes(_ file: URL) throws -> [UInt8] {
        Array(try Data(contentsOf: file))
    }

    /// Runs one input through its target (header hygiene with HTTPProxy's
    /// strip, upstream responses and client requests with HTTPProxy's parsers).
    static func run(_ target: FuzzTarget, _ bytes: [UInt8]) throws(FuzzFailure) {
        guard target == .headerHygiene || target == .upstreamResponse || target == .clientRequest else {
            try FuzzTargets.run(target, bytes)
            return
        }
        let result: Result<Void, FuzzFailure> = bytes.withUnsafeBytes { raw in
            do throws(FuzzFailure) {
                switch target {
                case .headerHygiene:
                    try FuzzTargets.headerHygiene(raw, strip: FuzzEntries.stripHopByHop)
                case .upstreamResponse:
                    try FuzzTargets.upstreamResponse(raw, parse: FuzzEntries.upstreamResponse)
                default:
                    try FuzzTargets.clientRequest(raw, parse: FuzzEntries.clientRequest)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}
