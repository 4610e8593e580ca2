import SwitchyardConfig
import SwitchyardCore

extension FuzzTargets {
    /// The bytes as one text through every small value parser: `LSN`,
    /// `IPAddress`, `CIDR`, `ServerAddress`, `ConfigValue.duration` and
    /// `ConfigValue.size`.
    ///
    /// Invariants: what parses prints as text that parses back to the same
    /// value; a CIDR contains its own network; a duration is not negative and
    /// grows by exactly 1 ms with `1ms` appended; a size is its digits times
    /// its unit.
    public static func valueParsers(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.valueParsers
        let text = String(decoding: bytes, as: UTF8.self)

        if let lsn = LSN(parsing: text) {
            try FuzzFailure.check(LSN(parsing: lsn.description) == lsn, target, "LSN \(text.debugDescription) prints as \(lsn)")
            try FuzzFailure.check(text.utf8.count <= 17, target, "LSN \(text.debugDescription) longer than X/Y with 8 digits each")
        }
        if let address = IPAddress(parsing: text) {
            try FuzzFailure.check(IPAddress(parsing: address.description) == address, target, "address \(text.debugDescription) prints as \(address)")
        }
        if let cidr = CIDR(parsing: text) {
            try FuzzFailure.check((0...128).contains(cidr.prefixLength), target, "CIDR \(text.debugDescription): prefix \(cidr.prefixLength)")
            try FuzzFailure.check(cidr.contains(cidr.network), target, "CIDR \(text.debugDescription) does not contain its network")
            // Printed back as written: IPv4 text with a 0-32 prefix, else IPv6 text
            // (an IPv4-mapped network as ::ffff:a.b.c.d) with a 0-128 prefix.
            let printed =
                !text.contains(":")
                ? "\(cidr.network)/\(cidr.prefixLength - 96)"
                : cidr.network.isIPv4 ? "::ffff:\(cidr.network)/\(cidr.prefixLength)" : "\(cidr.network)/\(cidr.prefixLength)"
            try FuzzFailure.check(CIDR(parsing: printed) == cidr, target, "CIDR \(text.debugDescription) prints as \(printed)")
        }
        if let server = ServerAddress(parsing: text) {
            try FuzzFailure.check((0...65535).contains(server.port), target, "address \(text.debugDescription): port \(server.port)")
            try FuzzFailure.check(!server.host.isEmpty, target, "address \(text.debugDescription) with an empty host")
            try FuzzFailure.check(
                ServerAddress(parsing: server.description) == server, target, "address \(text.debugDescription) prints as \(server)")
        }
        if let duration = ConfigValue.duration(text) {
            try FuzzFailure.check(duration >= .zero, target, "duration \(text.debugDescription) is \(duration)")
            if text != "0", let longer = ConfigValue.duration(text + "1ms") {
                try FuzzFailure.check(longer == duration + .milliseconds(1), target, "\(text.debugDescription)1ms is \(longer), not \(duration) + 1ms")
            }
        }
        if let size = ConfigValue.size(text) {
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            let unit = text.dropFirst(digits.count)
            let multiplier: UInt64? = ["": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30][String(unit)]
            let expected = UInt64(digits).flatMap { value in
                multiplier.flatMap { value.multipliedReportingOverflow(by: $0) }.flatMap { $0.overflow ? nil : $0.partialValue }
            }
            try FuzzFailure.check(size == expected, target, "size \(text.debugDescription) is \(size), expected \(String(describing: expected))")
        }
    }
}
