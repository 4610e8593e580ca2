/// A fixed-capacity FIFO: appending to a full buffer drops the oldest element.
/// Not thread-safe (``DashboardHistory`` and ``RecentItems`` hold it under a
/// lock). Inlinable for ``RecentItems``, which is used on the request path.
@usableFromInline
struct RingBuffer<Element> {
    @usableFromInline var storage: [Element?]
    /// Index of the oldest element.
    @usableFromInline var head = 0
    @usableFromInline var count = 0

    @usableFromInline
    init(capacity: Int) {
        self.storage = Array(repeating: nil, count: max(1, capacity))
    }

    @inlinable var capacity: Int { self.storage.count }

    @inlinable var isEmpty: Bool { self.count == 0 }

    /// Appends are on the request path (``RecentItems``): the index wraps by
    /// a comparison, not a division by the capacity (tens of cycles).
    @inlinable
    mutating func append(_ element: consuming Element) {
        if self.count == self.storage.count {
            self.storage[self.head] = element
            self.head = self.head + 1 == self.storage.count ? 0 : self.head + 1
        } else {
            let slot = self.head + self.count
            self.storage[slot < self.storage.count ? slot : slot - self.storage.count] = element
            self.count += 1
        }
    }

    /// The oldest element.
    var first: Element? {
        self.count == 0 ? nil : self.storage[self.head]
    }

    /// Drops the oldest element, if any.
    mutating func removeFirst() {
        guard self.count > 0 else { return }
        self.storage[self.head] = nil
        self.head = (self.head + 1) % self.storage.count
        self.count -= 1
    }

    /// Drops the oldest elements while `predicate` holds for them.
    mutating func removeFirst(while predicate: (Element) -> Bool) {
        while let oldest = self.first, predicate(oldest) {
            self.removeFirst()
        }
    }

    /// Oldest first.
    @inlinable
    var elements: [Element] {
        var result: [Element] = []
        result.reserveCapacity(self.count)
        for offset in 0..<self.count {
            if let element = self.storage[(self.head + offset) % self.storage.count] {
                result.append(element)
            }
        }
        return result
    }
}
