import ArgumentParser
import LagMonitor
import Logging
import SwitchyardApp
import SwitchyardConfig
import SwitchyardCore
import SwitchyardLogging

struct Explain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the decision 'serve' would take for a request right now (polls the databases once)."
    )

    @OptionGroup var options: ConfigOption

    @Argument(help: "The request method, e.g. GET.")
    var method: String

    @Argument(help: "The request path, e.g. /items/7.")
    var path: String

    @Option(name: .customLong("cookie"), help: "A request cookie NAME=VALUE (repeatable).")
    var cookies: [String] = []

    @Option(name: .customLong("header"), help: "A request header NAME:VALUE (repeatable).")
    var headers: [String] = []

    func run() async throws {
        let configuration = try loadConfiguration(self.options)
        var headerMap: [String: String] = [:]
        for header in self.headers {
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("--header takes NAME:VALUE, got '\(header)'")
            }
            let name = header[..<colon].lowercased()
            let value = header[header.index(after: colon)...].drop { $0 == " " }
            headerMap[name] = String(value)
        }
        var pinValue: String? = nil
        for cookie in self.cookies {
            guard let equals = cookie.firstIndex(of: "=") else {
                throw ValidationError("--cookie takes NAME=VALUE, got '\(cookie)'")
            }
            if cookie[..<equals] == configuration.pin.cookie {
                pinValue = String(cookie[cookie.index(after: equals)...])
            }
        }
        let (pinKey, pinKeyIsRandom) = Secrets.pinKey(configuration, environment: Secrets.processEnvironment())
        let signer = PinSigner(key: pinKey)
        let ttlMillis = configuration.pin.ttl.totalMilliseconds
        let pin = pinValue.map { signer.verify($0, nowMillis: WallClock.nowMillis(), ttlMillis: ttlMillis) } ?? .none

        var logger = Logger(label: "switchyard.explain") { _ in SwiftLogNoOpLogHandler() }
        logger.logLevel = .critical
        let report = await LagMonitor(configuration: configuration, logger: logger).pollOnce()
        let availability = configuration.replicas.map { replica -> ReplicaAvailability in
            let status = report.replicas.first { $0.name == replica.name }
            return ReplicaAvailability(usable: status?.inRotation ?? false, replayLSN: status?.replayLSN)
        }
        let router = RequestRouter(configuration: configuration.routing, pinMode: configuration.pin.mode)
        let pathOnly = self.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let decision = router.decide(
            method: self.method, path: pathOnly, header: { headerMap[$0] }, pin: pin, replicas: availability)

        var lines = ["route=\(decision.route.rawValue); reason=\(decision.reason); pin=\(pin.logValue)"]
        switch decision.target {
        case .primary:
            lines.append("servers: primary " + configuration.primary.servers.map(\.address.description).joined(separator: ", "))
        case .unavailable:
            lines.append("answer: 503 (no replica in rotation, on_no_replica: fail)")
        case .replicas(let set):
            for index in set where index < configuration.replicas.count {
                let replica = configuration.replicas[index]
                let lag = report.replicas.first { $0.name == replica.name }?.lagSeconds.map { LagPrinter.format($0) } ?? "?"
                lines.append("servers: \(replica.name) (lag_s \(lag)) " + replica.servers.map(\.address.description).joined(separator: ", "))
            }
        }
        if decision.setsPin {
            lines.append("pin: the response will set \(configuration.pin.cookie) (\(configuration.pin.mode.rawValue) mode)")
        }
        if pinKeyIsRandom && pinValue != nil {
            lines.append("note: \(configuration.pin.secretEnv) is not set, so no pin cookie can verify here")
        }
        for status in report.replicas where !status.inRotation {
            lines.append("note: \(status.name) is \(status.verdict)")
        }
        FileHandleOutput.standardOutput(lines.joined(separator: "\n") + "\n")
    }
}
