import SwitchyardCore
import Yams

extension ConfigBuilder {
    mutating func pin(_ node: ConfigNode?) -> PinConfiguration {
        var pin = PinConfiguration()
        guard let node,
            let fields = self.mapping(node, keys: ["cookie", "mode", "ttl", "secret_env", "same_site", "secure", "path"])
        else {
            return pin
        }
        if let node = fields["cookie"], let text = self.string(node) {
            if ConfigSyntax.isToken(text) {
                pin.cookie = text
            } else {
                self.report("\(node.path) must be a cookie name (an HTTP token, no spaces or separators), found \(node.found)", at: node.mark)
            }
        }
        if let node = fields["mode"], let value = self.choice(node, PinConfiguration.Mode.self) {
            pin.mode = value
        }
        if let node = fields["ttl"], let value = self.duration(node) {
            pin.ttl = value
        }
        if let node = fields["secret_env"], let value = self.environmentName(node) {
            pin.secretEnv = value
        }
        // Cookie attributes ignore case (RFC 6265bis); written back as Strict, Lax or None.
        let sameSiteNode = fields["same_site"]
        if let node = sameSiteNode, let value = self.choice(node, PinConfiguration.SameSite.self, ignoringCase: true) {
            pin.sameSite = value
        }
        var secureIsValid = true
        if let node = fields["secure"] {
            if let value = self.bool(node) {
                pin.secure = value
            } else {
                secureIsValid = false
            }
        }
        if let node = fields["path"], let value = self.absolutePath(node) {
            pin.path = value
        }
        if pin.sameSite == .none, !pin.secure, secureIsValid {
            self.report(
                "pin.same_site None requires pin.secure: true (browsers reject SameSite=None cookies without Secure)",
                at: sameSiteNode?.mark
            )
        }
        return pin
    }
}
