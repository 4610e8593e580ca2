import SwitchyardFuzzTargets
import Testing

/// The short form of the fuzzing of issue #7: every committed seed and
/// regression input replayed through the same entry functions libFuzzer
/// drives in `deploy/fuzz`, then deterministic mutations of them, so a
/// broken invariant shows in `swift test` without libFuzzer.
@Suite("Fuzz corpora: seeds, regressions and seeded mutations")
struct FuzzCorpusTests {
    @Test("every target has a seed corpus", arguments: FuzzTarget.allCases)
    func corpusPresent(target: FuzzTarget) {
        #expect(FuzzCorpus.files("corpus", target).count >= 3, "deploy/fuzz/corpus/\(target.rawValue) needs seeds")
    }

    @Test("every seed and regression input passes its target", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        for file in FuzzCorpus.files("corpus", target) + FuzzCorpus.files("regressions", target) {
            let bytes = try FuzzCorpus.bytes(file)
            #expect(throws: Never.self, "\(file.lastPathComponent)") {
                try FuzzCorpus.run(target, bytes)
            }
        }
    }

    @Test("2,000 seeded mutations of the corpus pass their target", arguments: FuzzTarget.allCases)
    func mutations(target: FuzzTarget) throws {
        let seeds = try (FuzzCorpus.files("corpus", target) + FuzzCorpus.files("regressions", target)).map(FuzzCorpus.bytes)
        try #require(!seeds.isEmpty)
        var rng = SplitMix64(state: 0x5157_4954_4348 ^ UInt64(target.rawValue.utf8.count))
        for iteration in 0..<2_000 {
            let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let other = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let input = Mutator.mutate(seed, other: other, using: &rng)
            do throws(FuzzFailure) {
                try FuzzCorpus.run(target, input)
            } catch {
                Issue.record("iteration \(iteration), input \(input): \(error)")
                return
            }
        }
    }
}
