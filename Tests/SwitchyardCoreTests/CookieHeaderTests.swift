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
