#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

#if os(Linux)
/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29+) and `..._addclosefrom_np` (2.34+). Swift's Glibc
/// module does not declare them (they need `_GNU_SOURCE`), so they are looked up with `dlsym`.
struct SpawnExtensions: Sendable {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    let addChdir: AddChdir?
    let addClosefrom: AddClosefrom?

    static let shared: SpawnExtensions = {
        let handle = dlopen(nil, RTLD_NOW)
        let chdirSymbol = dlsym(handle, "posix_spawn_file_actions_addchdir_np")
        let closefromSymbol = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
        return SpawnExtensions(
            addChdir: chdirSymbol.map { unsafeBitCast($0, to: AddChdir.self) },
            addClosefrom: closefromSymbol.map { unsafeBitCast($0, to: AddClosefrom.self) }
        )
    }()
}
#endif
