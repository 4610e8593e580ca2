@testable import HTTPProxy
import NIOCore
import SwitchyardFuzzTargets

/// Another place these tests reach into HTTPProxy: its response parser
/// (internal to that module), driven the way `UpstreamConnection` drives it.
/// The libFuzzer executable `deploy/fuzz/Sources/fuzz-upstream-response`
/// holds the same code: adapt both if the parser changes.
enum UpstreamResponseEntry {
    static func parse(_ pieces: [[UInt8]], isHEAD: Bool, closeAtEnd: Bool) -> UpstreamResponseSummary {
        let parser = UpstreamResponseParser()
        parser.expectResponse(toHEAD: isHEAD)
        var events: [UpstreamResponseSummary.Event] = []
        let collect: (UpstreamResponseEvent) -> Void = { event in
            switch event {
            case .head(let head): events.append(.head(Self.summary(of: head)))
            case .body(let buffer): events.append(.body(Array(buffer.readableBytesView)))
            case .end(let reusable): events.append(.end(reusable: reusable))
            }
        }
        do {
            for piece in pieces {
                try parser.feed(ByteBuffer(bytes: piece), collect)
            }
            if closeAtEnd {
                try parser.endOfInput(collect)
            }
        } catch {
            events.append(.error(String(describing: error)))
        }
        return UpstreamResponseSummary(events: events)
    }

    /// The head as `ProxyServerHandler.sendHead` uses it: the status text and
    /// the runs, a CRLF after each run with `appendLineEnd`.
    static func summary(of head: UpstreamResponseHead) -> UpstreamResponseSummary.Head {
        let bytes = Array(head.bytes.readableBytesView)
        func slice(_ range: Range<Int>) -> [UInt8] {
            guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
                return Array("\n<\(range) outside the head's \(bytes.count) bytes>\n".utf8)
            }
            return Array(bytes[range])
        }
        var wire: [UInt8] = []
        for run in head.runs {
            wire += slice(run.start..<max(run.start, run.start + run.length))
            if run.appendLineEnd {
                wire += [13, 10]
            }
        }
        let framing: UpstreamResponseSummary.Framing
        switch head.framing {
        case .empty: framing = .empty
        case .length(let length): framing = .length(length)
        case .chunked: framing = .chunked
        case .untilClose: framing = .untilClose
        }
        return UpstreamResponseSummary.Head(
            status: head.status, bytes: bytes, statusText: slice(head.statusText), forwardedLines: head.forwardedLines, wire: wire,
            framing: framing, keepAlive: head.keepAlive, pinDirective: head.pinDirective, lsnText: head.lsnText)
    }
}
