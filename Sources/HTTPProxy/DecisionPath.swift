import SwitchyardCore
import SwitchyardLogging

/// What every request costs before any upstream work: the pin its cookie
/// carries and where it goes (SPEC §3). `package`, so that the decision-path
/// micro-benchmarks (deploy/bench/micro, which compiles these sources) run
/// exactly what `ProxyServerHandler` runs.
package enum DecisionPath {
    package static func decide(
        _ head: ClientRequestHead, path: String, snapshot: ProxySnapshot, replicaEntries: [ReplicaStatusBoard.Entry],
        pinCache: inout PinVerificationCache, now: UInt64
    ) -> (pin: PinStatus, decision: RouteDecision) {
        let pin = head.hasCookie ? Self.pinStatus(head, snapshot: snapshot, cache: &pinCache) : .none
        // The closures reach the head through a pointer: captured by value,
        // it was copied into each closure's context (a retain and a release
        // for each of its buffers and strings, twice per request).
        let decision = withUnsafePointer(to: head) { head in
            snapshot.withReplicaAvailability(entries: replicaEntries, now: now) { replicas in
                snapshot.router.decide(
                    method: head.pointee.method, path: path[...], header: { head.pointee.firstValue($0) }, pin: pin, replicas: replicas)
            }
        }
        return (pin, decision)
    }

    /// The pin the request's `Cookie` headers carry (the first header holding
    /// the pin cookie decides, as `CookieHeader.pinStatus`), scanned where the
    /// head was read and verified through the loop's cache: a pinned client's
    /// repeated cookie costs no HMAC and no allocation.
    package static func pinStatus(_ head: ClientRequestHead, snapshot: ProxySnapshot, cache: inout PinVerificationCache) -> PinStatus {
        let name = snapshot.configuration.pin.cookie
        return head.bytes.withUnsafeReadableBytes { bytes in
            for line in head.lines where HeadLines.equalsIgnoringCase(bytes, line.name, "cookie") {
                let header = UnsafeRawBufferPointer(rebasing: bytes[line.value])
                if let range = header.withMemoryRebound(to: UInt8.self, { CookieHeader.valueRange(named: name, in: $0) }) {
                    return cache.verify(
                        bytes: UnsafeRawBufferPointer(rebasing: header[range]), signer: snapshot.signer,
                        nowMillis: WallClock.nowMillis(), ttlMillis: snapshot.ttlMillis)
                }
            }
            return .none
        }
    }
}
