#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer
import SwitchyardFuzzTargets

/// One input through `FuzzTargets.ruleMatcher`; a broken invariant aborts, so
/// that libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        try FuzzTargets.ruleMatcher(bytes)
    } catch {
        // Straight to file descriptor 2: nothing buffered is lost by abort.
        let message = Array("\(error)\n".utf8)
        _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        abort()
    }
    return 0
}

/// The program's main: SwiftPM links an executable with `main` defined as
/// `fuzz_rule_matcher_main`, so libFuzzer's own main is not used; its driver is.
@_cdecl("fuzz_rule_matcher_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, fuzzTestOneInput)
}
