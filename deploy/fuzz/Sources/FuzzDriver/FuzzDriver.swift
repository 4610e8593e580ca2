#if canImport(Glibc)
import Glibc
#endif
import CLibFuzzer

/// What every fuzz executable does around its one target function, so that
/// each executable only names its target (and its `main` symbol, which SwiftPM
/// derives from the module name).
public enum FuzzDriver {
    /// One input through `target`. A broken invariant is written straight to
    /// file descriptor 2 (nothing buffered is lost by abort), then aborts, so
    /// that libFuzzer keeps the input as a crash.
    public static func testOneInput(
        _ data: UnsafePointer<UInt8>?, _ size: Int, _ target: (UnsafeRawBufferPointer) throws -> Void
    ) -> CInt {
        do {
            try target(UnsafeRawBufferPointer(start: data, count: size))
        } catch {
            let message = Array("\(error)\n".utf8)
            _ = message.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            abort()
        }
        return 0
    }

    /// The program's main: SwiftPM links an executable with `main` defined as
    /// `MODULE_main`, so libFuzzer's own main is not used; its driver is.
    public static func main(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
    }
}
