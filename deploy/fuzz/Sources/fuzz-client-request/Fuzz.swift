import FuzzDriver
@testable import HTTPProxy
import NIOCore
import SwitchyardFuzzTargets

/// The fuzzer's way into HTTPProxy's client request parser and the upstream
/// head the proxy writes (internal to that module; built with
/// -enable-testing), driven the way `ProxyServerHandler` drives them.
/// Tests/FuzzCorpusTests/ClientRequestEntry.swift holds the same code: adapt
/// both if the parser or `encodeUpstreamHead` changes.
func parseClientRequest(_ pieces: [[UInt8]], maximumHeadBytes: Int, trustsPeer: Bool) -> ClientRequestSummary {
    var parser = ClientRequestParser(maximumHeadBytes: maximumHeadBytes)
    var events: [ClientRequestSummary.Event] = []
    do {
        for piece in pieces {
            parser.append(ByteBuffer(bytes: piece))
            while let event = try parser.next() {
                switch event {
                case .head(let head): events.append(.head(summary(of: head, trustsPeer: trustsPeer)))
                case .body(let buffer): events.append(.body(Array(buffer.readableBytesView)))
                case .end: events.append(.end)
                }
            }
        }
    } catch {
        events.append(.error(String(describing: error)))
    }
    return ClientRequestSummary(events: events, leftover: parser.bufferedBytes)
}

/// The head, its forwarded lines as `encodeUpstreamHead` copies them (the
/// runs' bytes) and the upstream head as `ProxyServerHandler.receivedHead`
/// has it written.
func summary(of head: ClientRequestHead, trustsPeer: Bool) -> ClientRequestSummary.Head {
    let bytes = Array(head.bytes.readableBytesView)
    func slice(_ range: Range<Int>) -> [UInt8] {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count, range.lowerBound <= range.upperBound else {
            return Array("\n<\(range) outside the head's \(bytes.count) bytes>\n".utf8)
        }
        return Array(bytes[range])
    }
    var forwarded: [UInt8] = []
    for run in head.runs {
        forwarded += slice(run.start..<max(run.start, run.start + run.length))
    }
    let forwardedHeaders = FuzzTargets.clientRequestForwarded(
        trustsPeer: trustsPeer,
        incomingForwardedFor: head.hasForwarded ? head.values("x-forwarded-for") : [],
        incomingProto: head.hasForwarded ? head.values("x-forwarded-proto").first : nil,
        incomingHost: head.hasForwarded ? head.values("x-forwarded-host").first : nil,
        host: head.host
    )
    let upstream = ProxyServerHandler.encodeUpstreamHead(
        head, forwarded: forwardedHeaders, hostFallback: head.hostCount == 0 ? FuzzTargets.clientRequestLocalHost : nil,
        allocator: ByteBufferAllocator())
    let framing: ClientRequestSummary.Framing
    switch head.framing {
    case .none: framing = .none
    case .length(let length): framing = .length(length)
    case .chunked: framing = .chunked
    }
    return ClientRequestSummary.Head(
        bytes: bytes, method: head.method, target: slice(head.target), isHTTP10: head.isHTTP10, framing: framing,
        keepAlive: head.keepAlive, hostCount: head.hostCount, expectsContinue: head.expectsContinue, forwarded: forwarded,
        upstream: Array(upstream.readableBytesView))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDriver.testOneInput(data, size) { bytes in try FuzzTargets.clientRequest(bytes, parse: parseClientRequest) }
}

@_cdecl("fuzz_client_request_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.main(argc, argv, fuzzTestOneInput)
}
