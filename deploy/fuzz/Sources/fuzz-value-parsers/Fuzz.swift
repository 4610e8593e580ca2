#if canImport(Glibc)
import Glibc
#endif
import SwitchyardFuzzTargets

/// libFuzzer's entry point: one input through `FuzzTargets.valueParsers`; a broken
/// invariant aborts, so that libFuzzer keeps the input as a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    do {
        try FuzzTargets.valueParsers(UnsafeRawBufferPointer(start: data, count: size))
    } catch {
        print(error)
        abort()
    }
    return 0
}
