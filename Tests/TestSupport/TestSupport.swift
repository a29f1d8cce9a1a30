import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A directory under the system's temporary folder, removed when the test is done.
public final class TemporaryDirectory: @unchecked Sendable {
    /// Its absolute path.
    public let path: String

    public init(_ label: String = "tandem") {
        var template = Array((NSTemporaryDirectory() + "/\(label)-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: made!)
    }

    /// A path inside the directory.
    public func appending(_ name: String) -> String { path + "/" + name }

    deinit {
        _ = try? FileManager.default.removeItem(atPath: path)
    }
}

/// What a finished process left behind.
public struct ProcessOutcome: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Whether it was ended by a signal rather than exiting.
    public var signalled: Bool
}

/// Locates and runs the package's own executables as real processes.
public enum Executables {
    /// The directory holding the built products (the test binary lives there too).
    public static let productsDirectory: String = {
        let candidates = [CommandLine.arguments.first ?? "", Bundle.main.bundlePath, Bundle.main.executablePath ?? ""]
        for candidate in candidates where !candidate.isEmpty {
            var url = URL(fileURLWithPath: candidate)
            for _ in 0..<4 {
                url = url.deletingLastPathComponent()
                if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tandem-probe").path)
                    || FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tandem").path)
                {
                    return url.path
                }
            }
        }
        return FileManager.default.currentDirectoryPath + "/.build/debug"
    }()

    /// The path of a built executable.
    public static func path(_ name: String) -> String { productsDirectory + "/" + name }

    /// Runs an executable to completion.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        stdin: String? = nil, currentDirectory: String? = nil, timeout: Double = 120
    ) throws -> ProcessOutcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : path(executable))
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("TANDEM_") { env[key] = nil }
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errData = LockedData()
        let reader = Thread { errData.set(errPipe.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        while !errData.isSet { usleep(1000) }
        return ProcessOutcome(
            status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
            stderr: String(decoding: errData.value, as: UTF8.self),
            signalled: process.terminationReason == .uncaughtSignal)
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var done = false
    func set(_ value: Data) {
        lock.lock()
        data = value
        done = true
        lock.unlock()
    }
    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return done
    }
    var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// Reference tools for cross-checks.
public enum ReferenceTools {
    /// Whether `python3` can be run.
    public static let python: String? = which("python3")
    /// Whether `sha256sum` can be run.
    public static let sha256sum: String? = which("sha256sum")

    /// The absolute path of a program on PATH.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a Python script with arguments; stdout is returned.
    public static func runPython(
        _ script: String, _ arguments: [String] = [], stdin: String? = nil
    ) throws -> ProcessOutcome {
        guard let python else { throw ToolMissing(name: "python3") }
        return try Executables.run(python, ["-c", script] + arguments, stdin: stdin)
    }

    /// Whether a Python module can be imported.
    public static func pythonHas(_ module: String) -> Bool {
        guard python != nil, let outcome = try? runPython("import \(module)") else { return false }
        return outcome.status == 0
    }
}

/// A reference tool is not installed.
public struct ToolMissing: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "\(name) is not installed" }
}

/// Reads and writes files in tests.
public enum Files {
    public static func read(_ path: String) -> [UInt8] {
        (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? []
    }
    /// Writes in place (an existing file keeps its inode and mode), creating it if needed.
    public static func write(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        defer { close(fd) }
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                precondition(n > 0, "cannot write \(path)")
                offset += n
            }
        }
    }
    public static func text(_ path: String) -> String { String(decoding: read(path), as: UTF8.self) }
    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
    public static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
    /// Every regular file below `path`, recursively.
    public static func allFiles(under path: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: path) else { return [] }
        var out: [String] = []
        while let name = walker.nextObject() as? String {
            var isDir: ObjCBool = false
            let full = path + "/" + name
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { out.append(full) }
        }
        return out.sorted()
    }
}

/// A child process whose stdout lines are collected while it runs, and that can be killed.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var collected: [String] = []
    private var partial = Data()
    private let finished = DispatchSemaphore(value: 0)

    public init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("TANDEM_") { env[key] = nil }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let handle = out.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.lock()
                partial.append(chunk)
                while let newline = partial.firstIndex(of: 0x0A) {
                    collected.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
                    partial.removeSubrange(partial.startIndex...newline)
                }
                lock.unlock()
            }
            finished.signal()
        }.start()
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// The complete stdout lines so far.
    public var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    /// Waits until a line satisfies `predicate` or the timeout passes.
    public func waitForLine(timeout: Double = 30, _ predicate: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if lines.contains(where: predicate) { return true }
            usleep(1000)
        }
        return false
    }

    /// Sends a signal and waits for the process and its output to end.
    public func kill(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
        waitUntilExit()
    }

    /// Waits for the process and its output to end; returns the exit status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        process.waitUntilExit()
        finished.wait()
        finished.signal()
        return process.terminationStatus
    }
}

/// Whether two byte strings are equal; on a difference, describes where, briefly (test
/// failures should not print megabytes).
public func sameBytes(_ a: [UInt8], _ b: [UInt8]) -> Bool { a == b }

/// A short description of how two byte strings differ, or "equal".
public func byteDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    if a == b { return "equal" }
    let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
    return "\(a.count) vs \(b.count) bytes, first difference at byte \(first)"
}

/// Every copy of `bytes` with one byte changed: each value 0…255 at each of `places`, the
/// original value included. Fast paths that read several bytes at once are held to their
/// plain readings on these (a neighbour of a digit in ASCII, a letter, a byte whose value
/// minus `0` wraps), then on seeded inputs.
public func forEverySingleByteChange(
    of bytes: [UInt8], at places: some Sequence<Int>, _ body: (_ changed: [UInt8]) -> Void
) {
    for place in places {
        for value in 0...255 {
            var changed = bytes
            changed[place] = UInt8(value)
            body(changed)
        }
    }
}
