import SwitchyardCore

extension FuzzTargets {
    /// Directives, one per line, fields separated by tabs (unknown lines are ignored):
    ///
    ///     rule     ROUTE(primary|replica)  CONDITION...   prefix=/p  regex=RE  methods=GET,POST  header=NAME:VALUE
    ///     request  METHOD  PATH
    ///     header   NAME  VALUE
    ///     read     METHOD,METHOD...        (read_methods; default GET,HEAD,OPTIONS)
    ///     pin      none|valid|expired|invalid  [LSN]
    ///     replica  usable(0|1)  [LSN]
    ///     mode     lsn|ttl
    ///     fail                             (on_no_replica: fail)
    ///
    /// Invariants: the reason is `rule:NAME` exactly for the first rule whose
    /// every condition holds (checked one by one here); otherwise a method
    /// outside read_methods is a write to the primary; a valid pin goes to
    /// the primary unless, in lsn mode, a usable replica has replayed it
    /// (and then only such replicas are chosen); other reads go to exactly
    /// the usable replicas, or the no-replica fallback. The pin is set only
    /// for writes and rules to the primary.
    public static func ruleMatcher(_ bytes: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let target = FuzzTarget.ruleMatcher
        let input = FuzzLines(bytes)
        var rules: [RoutingRule] = []
        var conditionCount = 0
        for line in input.all("rule") {
            // Bounded so that one input stays fast (every regex is compiled).
            guard rules.count < 16, conditionCount < 64 else { break }
            let route: Route = line.field(0) == "replica" ? .replica : .primary
            var match = RuleMatch()
            var methods: Set<String>?
            for field in line.fields.dropFirst() {
                conditionCount += 1
                if field.hasPrefix("prefix=") {
                    match.pathPrefix = String(field.dropFirst(7))
                } else if field.hasPrefix("regex=") {
                    // An invalid pattern is rejected by the config loader: no rule.
                    match.pathRegex = try? PathRegex(String(field.dropFirst(6)))
                } else if field.hasPrefix("methods=") {
                    methods = Set(field.dropFirst(8).split(separator: ",").map { String($0) })
                } else if field.hasPrefix("header="), let colon = field.firstIndex(of: ":") {
                    let name = field[field.index(field.startIndex, offsetBy: 7)..<colon]
                    match.headers.append(HeaderCondition(name: String(name), value: String(field[field.index(after: colon)...])))
                }
            }
            match.methods = methods
            rules.append(RoutingRule(name: "rule-\(rules.count)", match: match, route: route))
        }
        var readMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]
        if let line = input.first("read") {
            readMethods = Set((line.field(0) ?? "").split(separator: ",").map { String($0) })
        }
        let onNoReplica: RoutingConfiguration.OnNoReplica = input.first("fail") == nil ? .primary : .fail
        let mode: PinConfiguration.Mode = input.first("mode")?.field(0) == "ttl" ? .ttl : .lsn
        let requestLine = input.first("request")
        let method = requestLine?.field(0).map(String.init) ?? "GET"
        let path = requestLine?.field(1) ?? "/"
        var headers: [(String, String)] = []
        for line in input.all("header") {
            headers.append(((line.field(0) ?? "").lowercased(), String(line.field(1) ?? "")))
        }
        var pin = PinStatus.none
        if let line = input.first("pin") {
            switch line.field(0) {
            case "valid": pin = .valid(PinToken(issuedAtMillis: 0, lsn: line.field(1).flatMap { LSN(parsing: $0) }))
            case "expired": pin = .expired
            case "invalid": pin = .invalid
            default: pin = .none
            }
        }
        var replicas: [ReplicaAvailability] = []
        for line in input.all("replica").prefix(ReplicaSet.maximumCount) {
            replicas.append(ReplicaAvailability(usable: line.field(0) == "1", replayLSN: line.field(1).flatMap { LSN(parsing: $0) }))
        }

        let router = RequestRouter(
            configuration: RoutingConfiguration(readMethods: readMethods, rules: rules, onNoReplica: onNoReplica),
            pinMode: mode
        )
        let lookup: (String) -> String? = { name in headers.first { $0.0 == name }?.1 }
        let decision = router.decide(method: method, path: path, header: lookup, pin: pin, replicas: replicas)

        // The reference: each condition of each rule checked on its own.
        let firstRule = rules.first { rule in
            let match = rule.match
            if let methods = match.methods, !methods.contains(method) { return false }
            if let prefix = match.pathPrefix, !path.utf8.starts(with: prefix.utf8) { return false }
            // Header values compare exactly: byte for byte, like the prefix.
            for condition in match.headers {
                guard let value = lookup(condition.name), value.utf8.elementsEqual(condition.value.utf8) else { return false }
            }
            if let regex = match.pathRegex, !regex.matches(path) { return false }
            return true
        }
        let usable = ReplicaSet(indexes: replicas.indices.filter { replicas[$0].usable })
        let fallback: RouteDecision.Target = onNoReplica == .primary ? .primary : .unavailable
        let expected: RouteDecision
        if let rule = firstRule {
            switch rule.route {
            case .primary:
                expected = RouteDecision(target: .primary, reason: .rule(rule.name), setsPin: true)
            case .replica:
                expected = RouteDecision(target: usable.isEmpty ? fallback : .replicas(usable), reason: .rule(rule.name))
            }
        } else if !readMethods.contains(method) {
            expected = RouteDecision(target: .primary, reason: .write, setsPin: true)
        } else if case let .valid(token) = pin {
            let caughtUp = ReplicaSet(indexes: replicas.indices.filter { index in
                guard mode == .lsn, let wanted = token.lsn, replicas[index].usable, let replayed = replicas[index].replayLSN else { return false }
                return replayed >= wanted
            })
            expected = caughtUp.isEmpty
                ? RouteDecision(target: .primary, reason: .pinned)
                : RouteDecision(target: .replicas(caughtUp), reason: .pinCaughtUp)
        } else {
            expected = usable.isEmpty
                ? RouteDecision(target: fallback, reason: .noReplica)
                : RouteDecision(target: .replicas(usable), reason: .read)
        }
        try FuzzFailure.check(decision == expected, target, "\(method) \(path.debugDescription): \(decision), expected \(expected)")
    }
}

extension ReplicaSet {
    init(indexes: [Int]) {
        self.init()
        for index in indexes {
            self.insert(index)
        }
    }
}
