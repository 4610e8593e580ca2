/// The poll statements (see shared/notes-postgres-lag.md §4), guarded so that
/// none raises on a node of the other role.
enum PollQueries {
    static let primaryName = "switchyard_primary_poll"
    /// in_recovery, current_lsn (NULL on a standby).
    static let primary = """
        SELECT pg_is_in_recovery(),
               CASE WHEN NOT pg_is_in_recovery() THEN pg_current_wal_lsn() END
        """

    static let replicaName = "switchyard_replica_poll"
    /// in_recovery, receive_lsn, replay_lsn, replay_delay_s (0 when replay has caught up with receive),
    /// replay_paused (NULL on a primary), receiver_status (NULL without a WAL receiver).
    static let replica = """
        SELECT pg_is_in_recovery(),
               pg_last_wal_receive_lsn(),
               pg_last_wal_replay_lsn(),
               CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
               CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
               (SELECT status FROM pg_stat_wal_receiver LIMIT 1)
        """

    static let insertPositionName = "switchyard_insert_lsn"
    /// The primary's WAL insert position (raises on a standby: then no position).
    static let insertPosition = "SELECT pg_current_wal_insert_lsn()"

    static func bool(_ text: String?) -> Bool? {
        switch text {
        case "t": true
        case "f": false
        default: nil
        }
    }
}
