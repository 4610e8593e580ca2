@testable import AdminServer
import Testing

@Suite("Admin: the bearer token guards everything but /healthz")
struct AuthTests {
    static let token = "s3cret-Token+/="

    @Test(arguments: ["/status", "/metrics", "/", "/dashboard.json", "/nope"])
    func withoutOrWithAWrongTokenIs401(path: String) async throws {
        let harness = try await AdminHarness.start(token: Self.token)
        let client = harness.client()
        let missing = try await client.get(path)
        #expect(missing.status == 401, "\(path)")
        #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        for wrong in ["Bearer wrong", "Bearer \(Self.token)x", "Bearer \(Self.token.dropLast())", "Basic \(Self.token)", "Bearer", Self.token] {
            let response = try await client.get(path, headers: [("Authorization", wrong)])
            #expect(response.status == 401, "\(path) with \(wrong)")
        }
        await harness.stop()
    }

    @Test(arguments: ["/status", "/metrics", "/", "/dashboard.json"])
    func theRightTokenIs200(path: String) async throws {
        let harness = try await AdminHarness.start(token: Self.token)
        let response = try await harness.client().get(path, headers: [("Authorization", "Bearer \(Self.token)")])
        #expect(response.status == 200, "\(path)")
        let lowercaseScheme = try await harness.client().get(path, headers: [("Authorization", "bearer  \(Self.token) ")])
        #expect(lowercaseScheme.status == 200, "\(path)")
        await harness.stop()
    }

    @Test func healthzNeverNeedsTheToken() async throws {
        let harness = try await AdminHarness.start(token: Self.token)
        let client = harness.client()
        #expect(try await client.get("/healthz").status == 200)
        #expect(try await client.get("/healthz", headers: [("Authorization", "Bearer wrong")]).status == 200)
        await harness.stop()
    }

    @Test func drainNeedsTheTokenAndCallsNothingWithout() async throws {
        let harness = try await AdminHarness.start(token: Self.token)
        let client = harness.client()
        #expect(try await client.post("/replicas/replica-a/drain").status == 401)
        #expect(try await client.post("/replicas/replica-a/drain?token=\(Self.encodedToken)").status == 401)
        #expect(harness.backend.state.withLock { $0.calls }.isEmpty)
        let allowed = try await client.post("/replicas/replica-a/drain", headers: [("Authorization", "Bearer \(Self.token)")])
        #expect(allowed.status == 200)
        #expect(harness.backend.state.withLock { $0.calls } == ["drain replica-a"])
        await harness.stop()
    }

    static let encodedToken = "s3cret-Token%2B%2F%3D"

    @Test func theQueryTokenWorksOnTheDashboardOnly() async throws {
        let harness = try await AdminHarness.start(token: Self.token)
        let client = harness.client()
        #expect(try await client.get("/?token=\(Self.encodedToken)").status == 200)
        #expect(try await client.get("/dashboard.json?token=\(Self.encodedToken)").status == 200)
        // '+' is a plus, not a space; '/' and '=' may also come unencoded.
        #expect(try await client.get("/?token=s3cret-Token+/=").status == 200)
        #expect(try await client.get("/?token=s3cret-Token%20%2F%3D").status == 401)
        #expect(try await client.get("/?token=wrong").status == 401)
        #expect(try await client.get("/status?token=\(Self.encodedToken)").status == 401)
        #expect(try await client.get("/metrics?token=\(Self.encodedToken)").status == 401)
        await harness.stop()
    }

    @Test func withoutATokenEverythingIsOpen() async throws {
        let harness = try await AdminHarness.start(token: nil)
        #expect(try await harness.client().get("/status").status == 200)
        await harness.stop()
        let empty = try await AdminHarness.start(token: "")
        #expect(try await empty.client().get("/status").status == 200)
        await empty.stop()
    }

    @Test func constantTimeComparison() throws {
        let token = try #require(BearerToken("abc"))
        #expect(token.matches("abc"))
        #expect(!token.matches("abd"))
        #expect(!token.matches("ab"))
        #expect(!token.matches("abcabc"))
        #expect(!token.matches(""))
        #expect(BearerToken("") == nil)
        #expect(BearerToken.credential(fromAuthorization: "Bearer xyz") == "xyz")
        #expect(BearerToken.credential(fromAuthorization: "BEARER\txyz ") == "xyz")
        #expect(BearerToken.credential(fromAuthorization: "Bearerxyz") == nil)
        #expect(BearerToken.credential(fromAuthorization: "Basic xyz") == nil)
        #expect(BearerToken.credential(fromAuthorization: "Bearer ") == nil)
    }
}
