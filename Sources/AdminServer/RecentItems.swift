import Synchronization

/// The last `capacity` items recorded, oldest dropped first; thread-safe (one
/// short lock per call).
///
/// Generic so the app can keep its routing decisions in the form the request
/// path already has (`DecisionRecord`, moved in) and turn them into
/// ``DecisionSummary`` values only when the dashboard asks, not once per
/// request. Inlinable, so a caller in another module gets it specialized for
/// its element type (no value-witness calls per request).
public final class RecentItems<Element: Sendable>: Sendable {
    @usableFromInline let items: Mutex<RingBuffer<Element>>

    /// Most items kept.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.items = Mutex(RingBuffer(capacity: max(1, capacity)))
    }

    /// Keeps `item`, dropping the oldest when full.
    @inlinable
    public func record(_ item: consuming Element) {
        // Moved in through an optional: a closure cannot consume what it
        // captures, and a copy would retain each of the item's strings.
        var handed: Element? = consume item
        self.items.withLock { items in
            if let item = handed.take() {
                items.append(item)
            }
        }
    }

    /// The kept items, oldest first.
    @inlinable
    public var elements: [Element] {
        self.items.withLock { $0.elements }
    }
}
