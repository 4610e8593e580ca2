#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a configuration file with plain POSIX calls, so that the reason of
/// a failure is the system's own short text ("No such file or directory").
enum ConfigFileReader {
    struct Failure: Error {
        var reason: String
    }

    /// Larger files are refused: no configuration comes close.
    static let maximumSize = 16 * 1024 * 1024

    static func contents(ofFile path: String) -> Result<String, Failure> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return .failure(Failure(reason: ConfigFileReader.systemError(errno)))
        }
        defer { _ = close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                read(descriptor, raw.baseAddress, raw.count)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failure(Failure(reason: ConfigFileReader.systemError(code)))
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
            if contents.count > ConfigFileReader.maximumSize {
                return .failure(Failure(reason: "the file is larger than 16 MiB"))
            }
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            return .failure(Failure(reason: "the file is not valid UTF-8 text"))
        }
        return .success(text)
    }

    private static func systemError(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }
}
