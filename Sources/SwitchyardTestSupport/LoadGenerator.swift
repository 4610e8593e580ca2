import Foundation
import Synchronization

/// One request a ``LoadGenerator`` client sends.
public struct LoadRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// A small label the test chooses (e.g. 0 = read, 1 = write), kept in each ``LoadSample``.
    public var tag: Int

    public init(method: String = "GET", path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, tag: Int = 0) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.tag = tag
    }

    /// GET, HEAD, OPTIONS, PUT, DELETE (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"].contains(self.method.uppercased())
    }
}

/// One finished request of a load run.
public struct LoadSample: Sendable {
    public var client: Int
    public var sequence: Int
    public var tag: Int
    /// Seconds from the start of the run to the moment the request was sent.
    public var start: Double
    /// Seconds until the response was complete (or the request failed).
    public var latency: Double
    /// The response status, 0 when no response arrived.
    public var status: Int
    public var ok: Bool
    /// No connection could be made (refused, timed out): the server never saw this request.
    public var connectFailed: Bool
    /// Why it failed (nil when ok).
    public var failure: String?
    /// The request went out on a fresh connection (not a reused keep-alive one).
    public var freshConnection: Bool
}

/// What a load run produced. Every figure is a count or a latency measured by the clients.
public struct LoadSummary: Sendable, CustomStringConvertible {
    public var samples: [LoadSample]
    /// The first failures, described (at most 50).
    public var failureDescriptions: [String]
    /// Requests re-sent once on a fresh connection because a reused keep-alive connection had been
    /// closed by the server before any byte of the response (what curl and browsers do for idempotent requests).
    public var keepAliveRetries: Int
    /// Connections the clients opened.
    public var connectionsOpened: Int
    public var elapsed: Duration

    public var total: Int { self.samples.count }
    public var succeeded: Int { self.samples.reduce(0) { $0 + ($1.ok ? 1 : 0) } }
    public var failed: Int { self.total - self.succeeded }

    /// Count of responses per status (0 = no response).
    public var statusCounts: [Int: Int] {
        var counts: [Int: Int] = [:]
        for sample in self.samples { counts[sample.status, default: 0] += 1 }
        return counts
    }

    public func samples(tag: Int? = nil, from: Double = 0, to: Double = .infinity) -> [LoadSample] {
        self.samples.filter { (tag == nil || $0.tag == tag) && $0.start >= from && $0.start < to }
    }

    /// The latency percentile (0...100) of `samples` in milliseconds, nil when there are none.
    public static func percentileMilliseconds(_ percentile: Double, of samples: [LoadSample]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.map(\.latency).sorted()
        let rank = min(sorted.count - 1, max(0, Int((percentile / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank] * 1000
    }

    public var description: String {
        let p50 = Self.percentileMilliseconds(50, of: self.samples).map { String(format: "%.1f", $0) } ?? "-"
        let p99 = Self.percentileMilliseconds(99, of: self.samples).map { String(format: "%.1f", $0) } ?? "-"
        let statuses = self.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
        var text = "\(self.total) requests, \(self.failed) failed, statuses [\(statuses)], p50 \(p50) ms, p99 \(p99) ms, "
        text += "\(self.connectionsOpened) connections, \(self.keepAliveRetries) keep-alive retries, \(self.elapsed)"
        if !self.failureDescriptions.isEmpty {
            text += "; first failures: " + self.failureDescriptions.prefix(5).joined(separator: " | ")
        }
        return text
    }
}

/// A bounded load generator on loopback: `clients` threads, each a keep-alive HTTP/1.1 client
/// (``RawHTTPClient``) sending one request after the other, so up to `clients` requests are in
/// flight at once. Every client loop is bounded by `requestsPerClient` AND by `duration`; each
/// request by `requestTimeout`. The run stops by itself; ``stop()`` ends it early.
///
/// ```swift
/// let load = LoadGenerator.start(.init(port: port, clients: 200, requestsPerClient: 1_000, duration: .seconds(20))) { client, n in
///     LoadRequest(path: "/items/\(n)")
/// }
/// let summary = try await load.wait()
/// ```
public final class LoadGenerator: Sendable {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var clients: Int
        public var requestsPerClient: Int
        public var duration: Duration
        public var requestTimeout: Duration
        /// A pause between one client's requests (0: back to back).
        public var thinkTime: Duration
        /// Each client keeps the cookies it is given (pins), like a browser.
        public var keepsCookies: Bool
        /// Headers sent with every request.
        public var headers: [(String, String)]
        /// Keep one successful sample in this many (failed ones are always kept): long soaks.
        public var okSampleStride: Int

        public init(
            host: String = "127.0.0.1", port: Int, clients: Int, requestsPerClient: Int, duration: Duration,
            requestTimeout: Duration = .seconds(20), thinkTime: Duration = .zero, keepsCookies: Bool = false,
            headers: [(String, String)] = [("Host", "load.test")], okSampleStride: Int = 1
        ) {
            self.okSampleStride = max(1, okSampleStride)
            self.host = host
            self.port = port
            self.clients = clients
            self.requestsPerClient = requestsPerClient
            self.duration = duration
            self.requestTimeout = requestTimeout
            self.thinkTime = thinkTime
            self.keepsCookies = keepsCookies
            self.headers = headers
        }
    }

    /// Says whether a response is a success: nil for yes, else why not.
    public typealias Validator = @Sendable (_ request: LoadRequest, _ response: TestResponse) -> String?
    /// Called on the client's thread after every request (response nil when none arrived).
    public typealias Observer = @Sendable (_ request: LoadRequest, _ sample: LoadSample, _ response: TestResponse?) -> Void

    public static let statusBelow400: Validator = { _, response in
        response.status < 400 ? nil : "status \(response.status)"
    }

    public let options: Options
    private let stopped = Atomic<Bool>(false)
    private let finishedClients = Atomic<Int>(0)
    private let completedRequests = Atomic<Int>(0)
    private let failedRequests = Atomic<Int>(0)
    private let results = Mutex<Results>(Results())
    private let startInstant: ContinuousClock.Instant

    private struct Results {
        var samples: [LoadSample] = []
        var failures: [String] = []
        var keepAliveRetries = 0
        var connections = 0
    }

    private init(options: Options) {
        self.options = options
        self.startInstant = ContinuousClock.now
    }

    /// Starts the clients at once and returns.
    public static func start(
        _ options: Options,
        validate: @escaping Validator = LoadGenerator.statusBelow400,
        observe: Observer? = nil,
        makeRequest: @escaping @Sendable (_ client: Int, _ sequence: Int) -> LoadRequest
    ) -> LoadGenerator {
        let generator = LoadGenerator(options: options)
        for client in 0..<max(0, options.clients) {
            let thread = Thread {
                generator.runClient(client, validate: validate, observe: observe, makeRequest: makeRequest)
            }
            thread.stackSize = 1024 * 1024
            thread.name = "switchyard-load-\(client)"
            thread.start()
        }
        return generator
    }

    /// Asks every client to stop after its current request.
    public func stop() {
        self.stopped.store(true, ordering: .relaxed)
    }

    /// Seconds since the run started (the time base of ``LoadSample/start``).
    public var secondsSinceStart: Double {
        Self.seconds(ContinuousClock.now - self.startInstant)
    }

    /// Requests finished so far, and how many of them failed (live).
    public var completed: Int { self.completedRequests.load(ordering: .relaxed) }
    public var failed: Int { self.failedRequests.load(ordering: .relaxed) }
    public var isFinished: Bool { self.finishedClients.load(ordering: .acquiring) >= self.options.clients }

    /// Waits for every client to finish (they stop by themselves at the duration; the extra slack
    /// covers one request timeout) and returns the summary.
    public func wait(slack: Duration = .seconds(30)) async throws -> LoadSummary {
        let elapsed = ContinuousClock.now - self.startInstant
        let remaining = max(.zero, self.options.duration - elapsed) + self.options.requestTimeout * 2 + slack
        try await eventually("load clients finish", timeout: remaining, pollEvery: .milliseconds(50)) { self.isFinished }
        return self.summary()
    }

    /// Stops and waits.
    public func stopAndWait() async throws -> LoadSummary {
        self.stop()
        return try await self.wait()
    }

    public func summary() -> LoadSummary {
        self.results.withLock { results in
            LoadSummary(
                samples: results.samples.sorted { $0.start < $1.start }, failureDescriptions: results.failures,
                keepAliveRetries: results.keepAliveRetries, connectionsOpened: results.connections,
                elapsed: ContinuousClock.now - self.startInstant)
        }
    }

    // MARK: The client loop (one thread each)

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func runClient(
        _ client: Int, validate: Validator, observe: Observer?, makeRequest: @Sendable (Int, Int) -> LoadRequest
    ) {
        defer { self.finishedClients.add(1, ordering: .releasing) }
        let deadline = self.startInstant + self.options.duration
        let jar = CookieJar()
        var connection: RawHTTPClient?
        var requestsOnConnection = 0
        var samples: [LoadSample] = []
        var failures: [String] = []
        var retries = 0
        var connections = 0
        defer {
            connection?.close()
            self.results.withLock { results in
                results.samples.append(contentsOf: samples)
                results.failures.append(contentsOf: failures.prefix(max(0, 50 - results.failures.count)))
                results.keepAliveRetries += retries
                results.connections += connections
            }
        }
        for sequence in 0..<max(0, self.options.requestsPerClient) {
            if self.stopped.load(ordering: .relaxed) || ContinuousClock.now >= deadline { break }
            let request = makeRequest(client, sequence)
            var headers = self.options.headers + request.headers
            if self.options.keepsCookies, let cookie = jar.cookieHeader {
                headers.append(("Cookie", cookie))
            }
            let bytes = RawHTTPClient.formatRequest(method: request.method, path: request.path, headers: headers, body: request.body)
            let sent = ContinuousClock.now
            var response: TestResponse?
            var failure: String?
            var connectFailed = false
            var fresh = false
            var attempt = 0
            while attempt < 2 {
                attempt += 1
                // A connection the server closed while idle is replaced before sending (not a failure).
                if let existing = connection, existing.isClosedByPeer(within: .zero) {
                    existing.close()
                    connection = nil
                }
                if connection == nil {
                    do {
                        connection = try RawHTTPClient.connect(port: self.options.port, host: self.options.host, timeout: self.options.requestTimeout)
                        connections += 1
                        requestsOnConnection = 0
                    } catch {
                        failure = "connect: \(error)"
                        connectFailed = true
                        // Like a real client, do not hammer a port that refuses.
                        Thread.sleep(forTimeInterval: 0.02)
                        break
                    }
                }
                guard let current = connection else { break }
                let reused = requestsOnConnection > 0
                fresh = !reused
                do {
                    try current.send(bytes)
                    let received = try current.readResponse(forHeadRequest: request.method.uppercased() == "HEAD")
                    requestsOnConnection += 1
                    response = received
                    failure = nil
                    if received.closesConnection {
                        current.close()
                        connection = nil
                    }
                    break
                } catch let error as RawHTTPClientError {
                    current.close()
                    connection = nil
                    if reused && request.isIdempotent && attempt == 1 && Self.nothingReceived(error) {
                        retries += 1
                        continue
                    }
                    failure = "\(request.method) \(request.path): \(error)"
                    break
                } catch {
                    current.close()
                    connection = nil
                    failure = "\(request.method) \(request.path): \(error)"
                    break
                }
            }
            let latency = Self.seconds(ContinuousClock.now - sent)
            if let response {
                if self.options.keepsCookies { jar.update(from: response) }
                failure = validate(request, response).map { "\(request.method) \(request.path): \($0)" }
            }
            let sample = LoadSample(
                client: client, sequence: sequence, tag: request.tag, start: Self.seconds(sent - self.startInstant),
                latency: latency, status: response?.status ?? 0, ok: failure == nil, connectFailed: connectFailed,
                failure: failure, freshConnection: fresh)
            if failure != nil || sequence % self.options.okSampleStride == 0 {
                samples.append(sample)
            }
            self.completedRequests.add(1, ordering: .relaxed)
            if let failure {
                self.failedRequests.add(1, ordering: .relaxed)
                if failures.count < 50 { failures.append(failure) }
            }
            observe?(request, sample, response)
            if self.options.thinkTime > .zero {
                Thread.sleep(forTimeInterval: Self.seconds(self.options.thinkTime))
            }
        }
    }

    /// The server closed or reset a reused connection before any byte of the response arrived.
    private static func nothingReceived(_ error: RawHTTPClientError) -> Bool {
        switch error {
        case .closedByPeer(_, let received), .connectionReset(_, let received):
            return received == 0
        case .sendFailed:
            return true
        default:
            return false
        }
    }
}
