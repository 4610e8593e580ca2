extension PostgresCluster {
    /// Where the time of ``PostgresCluster/start(replicas:options:)`` went.
    public struct StartTimings: Sendable, CustomStringConvertible {
        /// Finding the binaries and `postgres --version`.
        public var discovery: Duration = .zero
        public var initdb: Duration = .zero
        /// `pg_ctl start -w` of the primary.
        public var primaryStart: Duration = .zero
        /// Role, database and table.
        public var setup: Duration = .zero
        /// Base backups plus replica starts (replicas are built in parallel).
        public var replicas: Duration = .zero
        /// Until every replica streams and has replayed the primary's position.
        public var catchUp: Duration = .zero
        public var total: Duration = .zero

        public var description: String {
            func ms(_ duration: Duration) -> String {
                let (seconds, attoseconds) = duration.components
                return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
            }
            return "total \(ms(self.total)) (discovery \(ms(self.discovery)), initdb \(ms(self.initdb)), "
                + "primary start \(ms(self.primaryStart)), setup \(ms(self.setup)), replicas \(ms(self.replicas)), "
                + "catch-up \(ms(self.catchUp)))"
        }
    }
}
