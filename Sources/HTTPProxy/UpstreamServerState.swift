import Atomics
import NIOCore
import SwitchyardCore
import Synchronization

/// The shared, cross-loop state of one app server: passive health, the active
/// check's verdict and the number of requests in flight. Reading whether it is
/// up costs two relaxed atomic loads; the lock is only taken when a request
/// fails, or succeeds after failures.
///
/// The atomics are `Synchronization.Atomic`, stored in the object itself: a
/// `ManagedAtomic` is an object of its own (one more pointer to follow per
/// load, for every server every read request considers) and, being generic,
/// finds its value's offset through its class metadata on each access.
public final class UpstreamServerState: Sendable {
    public let address: ServerAddress
    /// `address` as text, made once (it goes into every decision log line).
    public let addressText: String
    /// `primary` or the replica's name.
    public let pool: String
    /// Resolved once, when the configuration is loaded (never on an event loop).
    public let socketAddress: SocketAddress?
    /// A number of its own, given out in order and never reused: the event
    /// loops find their pools of idle connections to it by this index (a
    /// lookup keyed by the object hashed it, twice per proxied request).
    public let ordinal: Int
    private static let nextOrdinal = ManagedAtomic<Int>(0)
    private let health = Mutex(PassiveHealth())
    private let downUntil = Atomic<UInt64>(0)
    private let failing = Atomic<Bool>(false)
    private let activeCheckUp = Atomic<Bool>(true)
    private let inFlight = Atomic<Int>(0)

    public init(address: ServerAddress, pool: String) {
        self.address = address
        self.addressText = address.description
        self.pool = pool
        self.ordinal = Self.nextOrdinal.loadThenWrappingIncrement(ordering: .relaxed)
        self.socketAddress =
            (try? SocketAddress(ipAddress: address.host, port: address.port))
            ?? (try? SocketAddress.makeAddressResolvingHost(address.host, port: address.port))
    }

    public func isUp(now: UInt64) -> Bool {
        self.activeCheckUp.load(ordering: .relaxed) && now >= self.downUntil.load(ordering: .relaxed)
    }

    public var active: Int {
        self.inFlight.load(ordering: .relaxed)
    }

    public var consecutiveFailures: Int {
        self.health.withLock { $0.consecutiveFailures }
    }

    func requestStarted() {
        self.inFlight.wrappingAdd(1, ordering: .relaxed)
    }

    func requestFinished() {
        self.inFlight.wrappingSubtract(1, ordering: .relaxed)
    }

    /// Returns true when this failure took the server out.
    @discardableResult
    func recordFailure(now: UInt64, maxFails: Int, failTimeoutNanos: UInt64) -> Bool {
        self.failing.store(true, ordering: .relaxed)
        return self.health.withLock { health in
            let wentDown = health.recordFailure(now: now, maxFails: maxFails, failTimeoutNanos: failTimeoutNanos)
            self.downUntil.store(health.downUntil, ordering: .relaxed)
            return wentDown
        }
    }

    /// Returns true when the server had been failing.
    @discardableResult
    func recordSuccess() -> Bool {
        guard self.failing.load(ordering: .relaxed) else { return false }
        self.failing.store(false, ordering: .relaxed)
        return self.health.withLock { health in
            let recovered = health.recordSuccess()
            self.downUntil.store(0, ordering: .relaxed)
            return recovered
        }
    }

    /// The active health check's verdict; returns true when it changed.
    @discardableResult
    func setActiveCheck(up: Bool) -> Bool {
        self.activeCheckUp.exchange(up, ordering: .relaxed) != up
    }

    public var activeCheckPassing: Bool {
        self.activeCheckUp.load(ordering: .relaxed)
    }
}
