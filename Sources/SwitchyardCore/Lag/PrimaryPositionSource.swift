/// Supplies a primary WAL position for pins in `lsn` mode (SPEC §3): the
/// position must come from a query *started after* the request, so that it is
/// at or after the write's commit. Implemented by the lag monitor.
public protocol PrimaryPositionSource: Sendable {
    /// Calls `completion` exactly once, on any thread, with the position or nil
    /// when the primary could not be asked (the pin then acts as in `ttl` mode).
    func requestInsertPosition(_ completion: @escaping @Sendable (LSN?) -> Void)
}
