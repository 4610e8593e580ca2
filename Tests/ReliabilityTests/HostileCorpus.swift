/// Hostile request bytes: request-smuggling shapes (CL.TE, TE.CL, TE.TE obfuscations, duplicate and
/// malformed Content-Length, bad chunk framing) and malformed heads. Written for this suite from
/// the shapes described in RFC 9112 §6 and the public smuggling literature (PortSwigger's CL.TE /
/// TE.CL / TE.TE classes); every case carries its own markers so the app servers' records show
/// whether anything of it got through.
enum HostileCorpus {
    struct Case: Sendable {
        var name: String
        var bytes: [UInt8]
        /// SPEC §4 requires a 4xx for this one (framing ambiguity or malformed head): a router
        /// that answers it 2xx is wrong even if nothing was smuggled.
        var mustReject: Bool
        /// The outer request's path (never to reach an app when rejected).
        var outerPath: String
        /// The path of the request hidden in the body (never to reach an app as a request).
        var smuggledPath: String?
    }

    /// The ways of writing `Transfer-Encoding: chunked` that parsers disagree on (TE.TE).
    /// `validAlone` says whether the header is still unambiguous on its own (then it is only
    /// ambiguous next to a Content-Length). The underscore name is no Transfer-Encoding for an HTTP
    /// parser (only for CGI-style apps that map `_` and `-` alike), so next to a Content-Length it
    /// is no ambiguity for the router: what follows the body is a pipelined request by the RFC.
    static let transferEncodings: [(name: String, lines: [String], validAlone: Bool)] = [
        ("plain", ["Transfer-Encoding: chunked"], true),
        ("upper-case value", ["Transfer-Encoding: CHUNKED"], true),
        ("tab before value", ["Transfer-Encoding:\tchunked"], true),
        ("space before colon", ["Transfer-Encoding : chunked"], false),
        ("xchunked", ["Transfer-Encoding: xchunked"], false),
        ("chunked then x", ["Transfer-Encoding: chunked", "Transfer-Encoding: x"], false),
        ("x then chunked", ["Transfer-Encoding: x", "Transfer-Encoding: chunked"], false),
        ("chunked, identity", ["Transfer-Encoding: chunked, identity"], false),
        ("identity, chunked", ["Transfer-Encoding: identity, chunked"], false),
        ("chunked twice", ["Transfer-Encoding: chunked, chunked"], false),
        ("quoted", ["Transfer-Encoding: \"chunked\""], false),
        ("obs-fold before", ["X-Fold: a", " Transfer-Encoding: chunked"], false),
        ("obs-fold value", ["Transfer-Encoding:", " chunked"], false),
        ("vertical tab", ["Transfer-Encoding: chunked\u{0B}"], false),
        ("form feed", ["Transfer-Encoding:\u{0C}chunked"], false),
        ("trailing junk", ["Transfer-Encoding: chunked;q=1"], false),
        ("bare LF inside", ["X-Bare: a\nTransfer-Encoding: chunked"], false),
        ("name with NUL", ["Transfer-Encoding\u{00}: chunked"], false),
        ("underscore name", ["Transfer_Encoding: chunked"], true),
    ]

    static func smuggled(_ index: Int) -> String {
        "GET /smuggled-\(index) HTTP/1.1\r\nHost: t\r\n\r\n"
    }

    /// The smuggling corpus. Every case is sent alone on a fresh connection.
    static func smuggling() -> [Case] {
        var cases: [Case] = []
        var index = 0
        func add(_ name: String, head: [String], body: String, mustReject: Bool, path: String, smuggled: String?) {
            let text = head.joined(separator: "\r\n") + "\r\n\r\n" + body
            cases.append(Case(name: name, bytes: Array(text.utf8), mustReject: mustReject, outerPath: path, smuggledPath: smuggled))
        }
        for encoding in Self.transferEncodings {
            let isHeader = !encoding.name.hasPrefix("underscore")
            // CL.TE: Content-Length covers everything; chunked ends early and leaves a request behind.
            index += 1
            let inner = Self.smuggled(index)
            let clteBody = "0\r\n\r\n" + inner
            add(
                "CL.TE \(encoding.name)",
                head: ["POST /evil-\(index) HTTP/1.1", "Host: t", "Content-Length: \(clteBody.utf8.count)"] + encoding.lines,
                body: clteBody, mustReject: isHeader, path: "/evil-\(index)", smuggled: isHeader ? "/smuggled-\(index)" : nil)
            // TE.CL: chunked covers everything; a short Content-Length leaves a request behind.
            index += 1
            let inner2 = Self.smuggled(index)
            let chunk = String(inner2.utf8.count, radix: 16)
            add(
                "TE.CL \(encoding.name)",
                head: ["POST /evil-\(index) HTTP/1.1", "Host: t"] + encoding.lines + ["Content-Length: \(chunk.utf8.count + 2)"],
                body: "\(chunk)\r\n\(inner2)\r\n0\r\n\r\n", mustReject: isHeader, path: "/evil-\(index)", smuggled: isHeader ? "/smuggled-\(index)" : nil)
            // TE alone: a strict parser ignoring the header sees no body and then a chunk line.
            index += 1
            let inner3 = Self.smuggled(index)
            add(
                "TE alone \(encoding.name)",
                head: ["POST /evil-\(index) HTTP/1.1", "Host: t"] + encoding.lines,
                body: "\(String(inner3.utf8.count, radix: 16))\r\n\(inner3)\r\n0\r\n\r\n",
                mustReject: !encoding.validAlone, path: "/evil-\(index)", smuggled: "/smuggled-\(index)")
        }
        // Content-Length shapes.
        let lengths: [(String, [String], Bool)] = [
            ("two differing", ["Content-Length: 5", "Content-Length: 6"], true),
            ("list differing", ["Content-Length: 5, 6"], true),
            ("plus sign", ["Content-Length: +5"], true),
            ("negative", ["Content-Length: -5"], true),
            ("hex", ["Content-Length: 0x5"], true),
            ("space inside", ["Content-Length: 5 5"], true),
            ("exponent", ["Content-Length: 5e0"], true),
            ("overflow", ["Content-Length: 184467440737095516170"], true),
            ("space before colon", ["Content-Length : 5"], true),
            ("obs-fold", ["Content-Length:", " 5"], true),
        ]
        for (name, lines, mustReject) in lengths {
            index += 1
            add(
                "CL \(name)", head: ["POST /evil-\(index) HTTP/1.1", "Host: t"] + lines,
                body: "hello" + Self.smuggled(index), mustReject: mustReject, path: "/evil-\(index)", smuggled: "/smuggled-\(index)")
        }
        // Chunk framing a lenient parser reads differently.
        let chunks: [(String, String)] = [
            ("size with 0x", "0x5\r\nhello\r\n0\r\n\r\n"),
            ("size with plus", "+5\r\nhello\r\n0\r\n\r\n"),
            ("size with space inside", "5 5\r\nhello\r\n0\r\n\r\n"),
            ("size overflow", "10000000000000005\r\nhello\r\n0\r\n\r\n"),
            ("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
            ("data longer than size", "3\r\nhello\r\n0\r\n\r\n"),
            ("no CRLF after data", "5\r\nhelloX0\r\n\r\n"),
            ("bad extension", "5;\u{01}\r\nhello\r\n0\r\n\r\n"),
        ]
        for (name, framing) in chunks {
            index += 1
            add(
                "chunk \(name)", head: ["POST /evil-\(index) HTTP/1.1", "Host: t", "Transfer-Encoding: chunked"],
                body: framing + Self.smuggled(index), mustReject: true, path: "/evil-\(index)", smuggled: "/smuggled-\(index)")
        }
        // HTTP/1.0 with chunked (RFC 9112 §6.1: faulty framing) and a request line with two versions.
        index += 1
        let inner = Self.smuggled(index)
        add(
            "HTTP/1.0 chunked", head: ["POST /evil-\(index) HTTP/1.0", "Host: t", "Transfer-Encoding: chunked", "Content-Length: 5"],
            body: "0\r\n\r\n" + inner, mustReject: true, path: "/evil-\(index)", smuggled: "/smuggled-\(index)")
        // A Connection header that lists Content-Length: the length must still reach
        // the app, or the body is read as the next request (it was, for GET and DELETE).
        for method in ["POST", "GET", "DELETE"] {
            index += 1
            let body = Self.smuggled(index)
            add(
                "Connection lists Content-Length, \(method)",
                head: ["\(method) /evil-\(index) HTTP/1.1", "Host: t", "Connection: Content-Length", "Content-Length: \(body.utf8.count)"],
                body: body, mustReject: false, path: "/evil-\(index)", smuggled: "/smuggled-\(index)")
        }
        return cases
    }

    /// Malformed heads for the flood: each must get a 4xx/5xx (or be closed) and reach no app.
    static func malformedHeads() -> [Case] {
        let long = String(repeating: "a", count: 40 * 1024)
        let raw: [(String, String)] = [
            ("version 9.9", "GET /evil-m2 HTTP/9.9\r\nHost: t\r\n\r\n"),
            ("version garbage", "GET /evil-m3 HTTQ/1.1\r\nHost: t\r\n\r\n"),
            ("NUL in path", "GET /evil-m4\u{00} HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("control in method", "G\u{01}T /evil-m5 HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("header without colon", "GET /evil-m6 HTTP/1.1\r\nHost: t\r\nNoColonHere\r\n\r\n"),
            ("space in header name", "GET /evil-m7 HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n"),
            ("head over max_header_bytes", "GET /evil-m8 HTTP/1.1\r\nHost: t\r\nX-Big: \(long)\r\n\r\n"),
            ("URI over max_header_bytes", "GET /evil-m9?\(long) HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("binary garbage", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}evil-m10\r\n\r\n"),
            ("HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
            ("CR line endings", "GET /evil-m12 HTTP/1.1\rHost: t\r\r"),
            ("NUL in header value", "GET /evil-m13 HTTP/1.1\r\nHost: t\r\nX-A: a\u{00}b\r\n\r\n"),
            ("missing method", " /evil-m14 HTTP/1.1\r\nHost: t\r\n\r\n"),
            ("LF in request line", "GET /evil-m15\nHTTP/1.1\r\nHost: t\r\n\r\n"),
        ]
        var cases = raw.map { name, text in
            Case(name: name, bytes: Array(text.utf8), mustReject: true, outerPath: "/evil-m", smuggledPath: nil)
        }
        // Many headers, together well over max_header_bytes (32 KiB) however it is counted.
        var many = "GET /evil-m16 HTTP/1.1\r\nHost: t\r\n"
        for header in 0..<4_000 { many += "X-\(header): value-1234\r\n" }
        cases.append(Case(name: "too many headers", bytes: Array((many + "\r\n").utf8), mustReject: true, outerPath: "/evil-m", smuggledPath: nil))
        return cases
    }
}
