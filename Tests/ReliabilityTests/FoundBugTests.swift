import SwitchyardTestSupport
import Testing

/// Regression tests for product bugs the reliability suite found in HTTPProxy (fixed with
/// focused tests in HTTPProxyTests too).
@Suite("Reliability: found bugs (HTTPProxy)", .serialized)
struct FoundBugTests {
    /// A complete POST has reached the app (it may have committed); a malformed request pipelined
    /// after it must not take its place: the client must get the app's response (with its pin)
    /// first, then 400 or a closed connection. The router used to answer the POST itself with
    /// "400 Bad Request: malformed request body", no pin, and drop the app's response.
    @Test
    func aMalformedPipelinedRequestDoesNotReplaceTheResponseOfACompletedWrite() async throws {
        let stack = try await InProcessStack.start()
        for server in stack.allServers { server.setBehavior(.delay(.milliseconds(300), then: .echo)) }
        let client = try await RawHTTPClient.connect(port: stack.port, timeout: .seconds(10))
        try await client.send("POST /first HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd")
        try await eventually("the POST reached an app complete", timeout: .seconds(10)) {
            stack.primaries.contains { $0.requests.contains { $0.uri == "/first" && $0.isComplete } }
        }
        try await client.send("GARBAGE\r\n\r\n")
        let first = try await client.readResponse()
        await stack.stop()
        #expect(first.status == 200, "the response to the POST the app processed: \(first)")
        #expect(first.hasHeader("set-cookie"), "a write that reached an app carries the pin (SPEC §3)")
    }

    /// SPEC §4: a head over max_header_bytes gets 431. The decoder counts only header names and
    /// values (not the request line, ": " and CRLFs), so a head of many short headers passes at up
    /// to several times the limit: here 4 000 headers, 44 KB on the wire against a 32 KiB limit.
    @Test
    func aHeadOfManyShortHeadersOverMaxHeaderBytesGets431() async throws {
        let stack = try await InProcessStack.start()
        var head = "GET /many-headers HTTP/1.1\r\nHost: t\r\n"
        for index in 0..<4_000 { head += "X-\(index): v\r\n" }
        head += "\r\n"
        #expect(head.utf8.count > 40 * 1024)
        let client = try await RawHTTPClient.connect(port: stack.port, timeout: .seconds(10))
        try await client.send(head)
        let response = try await client.readResponse()
        let reached = stack.allServers.contains { $0.requests.contains { $0.uri == "/many-headers" } }
        await stack.stop()
        #expect(response.status == 431)
        #expect(!reached)
    }
}
