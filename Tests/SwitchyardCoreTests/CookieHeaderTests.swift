import SwitchyardCore
import Testing

@Suite("CookieHeader: finding the pin cookie in a Cookie header")
struct CookieHeaderTests {
    @Test(
        "finds the named cookie wherever it stands, trimmed and unquoted",
        arguments: [
            ("switchyard_pin=abc", "abc"),
            ("theme=dark; switchyard_pin=abc; _ga=GA1.2.3", "abc"),
            ("theme=dark;switchyard_pin=abc", "abc"),
            ("  switchyard_pin=abc  ", "abc"),
            ("\tswitchyard_pin=abc", "abc"),
            ("switchyard_pin=\"abc\"", "abc"),
            ("switchyard_pin=", ""),
            ("switchyard_pin=\"\"", ""),
            ("switchyard_pin=\"", "\""),
            ("switchyard_pin=a=b", "a=b"),
            ("switchyard_pin=first; switchyard_pin=second", "first"),
            ("x=1;;switchyard_pin=abc;", "abc"),
            ("é=ü; switchyard_pin=abc", "abc"),
        ])
    func finds(header: String, expected: String) {
        #expect(CookieHeader.value(named: "switchyard_pin", in: header[...]).map(String.init) == expected)
    }

    @Test(
        "is nil when no cookie has exactly that name",
        arguments: [
            "", ";", "theme=dark", "switchyard_pin", "switchyard_pinx=abc", "xswitchyard_pin=abc",
            "Switchyard_Pin=abc", "switchyard_pin =abc", "theme=switchyard_pin=abc",
        ])
    func absent(header: String) {
        #expect(CookieHeader.value(named: "switchyard_pin", in: header[...]) == nil)
    }

    /// Other names, the request path's byte form included: a name runs to its
    /// pair's first `=`, so a name holding `=` or `;` is never found, and an
    /// empty one is a pair starting with `=`.
    @Test(
        "other cookie names, as a String and as the header's bytes",
        arguments: [
            ("a", "a=1; ab=2", "1"), ("ab", "a=1; ab=2", "2"), ("b", "a=1; ab=2", nil),
            ("a=b", "a=b=c", nil), ("a;b", "a;b=c", nil), ("a", "a;b=c", nil), ("", "x=1; =2", "2"), ("", "x=1", nil),
            ("é", "e=1; é=2", "2"), ("x", " \t x = 1", nil), ("x", "y=1;x", nil), ("x", "x", nil), ("x", "x=", ""),
        ] as [(String, String, String?)])
    func otherNames(name: String, header: String, expected: String?) {
        #expect(CookieHeader.value(named: name, in: header[...]).map(String.init) == expected)
        let range = Array(header.utf8).withUnsafeBufferPointer { CookieHeader.valueRange(named: name, in: $0) }
        #expect(range.map { String(decoding: Array(header.utf8)[$0], as: UTF8.self) } == expected)
    }

    @Test("the first Cookie header holding the cookie decides the pin status")
    func pinStatusAcrossHeaders() {
        let signer = PinSigner(key: Array("k".utf8))
        let token = signer.sign(PinToken(issuedAtMillis: 1_000))
        let status = CookieHeader.pinStatus(
            ["theme=dark", "switchyard_pin=\(token)", "switchyard_pin=forged.value"],
            name: "switchyard_pin", signer: signer, nowMillis: 2_000, ttlMillis: 10_000)
        #expect(status == .valid(PinToken(issuedAtMillis: 1_000)))
        let forged = CookieHeader.pinStatus(
            ["switchyard_pin=forged.value", "switchyard_pin=\(token)"],
            name: "switchyard_pin", signer: signer, nowMillis: 2_000, ttlMillis: 10_000)
        #expect(forged == .invalid)
        #expect(CookieHeader.pinStatus([String](), name: "switchyard_pin", signer: signer, nowMillis: 0, ttlMillis: 1) == .none)
    }
}
