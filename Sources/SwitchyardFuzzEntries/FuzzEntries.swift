import HTTPProxy
import NIOCore
import NIOHTTP1
import SwitchyardFuzzTargets

/// The fuzz targets' way into HTTPProxy: the parts they exercise are
/// `package` there, so this module (in the same package) drives them the way
/// the proxy does, and both the libFuzzer executables (deploy/fuzz) and
/// `FuzzCorpusTests` call these functions: one copy of the driving code.
public enum FuzzEntries {
    /// `HeaderHygiene.strip`, for `FuzzTargets.headerHygiene`.
    public static func stripHopByHop(_ headers: inout HTTPHeaders) {
        HeaderHygiene.strip(&headers)
    }

    // MARK: client-request

    /// HTTPProxy's `ClientRequestParser` driven as `ProxyServerHandler`
    /// drives it (`append`, then `next()` until it returns nil), for
    /// `FuzzTargets.clientRequest`.
    public static func clientRequest(_ pieces: [[UInt8]], maximumHeadBytes: Int, trustsPeer: Bool) -> ClientRequestSummary {
        var parser = ClientRequestParser(maximumHeadBytes: maximumHeadBytes)
        var events: [ClientRequestSummary.Event] = []
        do {
            for piece in pieces {
                parser.append(ByteBuffer(bytes: piece))
                while let event = try parser.next() {
                    switch event {
                    case .head(let head): events.append(.head(FuzzEntries.summary(of: head, trustsPeer: trustsPeer)))
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

    /// The head, its forwarded lines as `upstreamHead` copies them (the runs'
    /// bytes) and the upstream head as `ProxyServerHandler.receivedHead` has it
    /// written.
    private static func summary(of head: ClientRequestHead, trustsPeer: Bool) -> ClientRequestSummary.Head {
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
            incomingHost: head.hasForwarded ? head.values("x-forwarded-host").first : nil
        )
        let upstream = head.upstreamHead(
            forwarded: forwardedHeaders, hostFallback: head.hostCount == 0 ? FuzzTargets.clientRequestLocalHost : nil,
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

    // MARK: upstream-response

    /// HTTPProxy's `UpstreamResponseParser` driven as `UpstreamConnection`
    /// drives it, for `FuzzTargets.upstreamResponse`.
    public static func upstreamResponse(_ pieces: [[UInt8]], isHEAD: Bool, closeAtEnd: Bool) -> UpstreamResponseSummary {
        let parser = UpstreamResponseParser()
        parser.expectResponse(toHEAD: isHEAD)
        var events: [UpstreamResponseSummary.Event] = []
        let collect: (UpstreamResponseEvent) -> Void = { event in
            switch event {
            case .head(let head): events.append(.head(FuzzEntries.summary(of: head)))
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
    private static func summary(of head: UpstreamResponseHead) -> UpstreamResponseSummary.Head {
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
