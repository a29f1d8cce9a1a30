import EventLog
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Somewhere text goes: standard output, standard error, or a string in a test.
public protocol TextSink: Sendable {
    /// Writes text (buffered; see `flush`).
    func write(_ text: String)
    /// Writes UTF-8 text given as bytes, valid during the call (buffered; see `flush`).
    func write(bytes: UnsafeRawBufferPointer)
    /// Writes out anything buffered.
    func flush()
}

extension TextSink {
    /// Sinks that hold strings take the bytes as one.
    public func write(bytes: UnsafeRawBufferPointer) { write(String(decoding: bytes, as: UTF8.self)) }
}

/// A buffered writer to a file descriptor.
public final class FileDescriptorSink: TextSink {
    private let fd: Int32
    private let buffer = Mutex<[UInt8]>([])

    /// Standard output.
    public static let standardOutput = FileDescriptorSink(fd: 1)
    /// Standard error.
    public static let standardError = FileDescriptorSink(fd: 2)

    public init(fd: Int32) { self.fd = fd }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Bytes of a buffer's size or more go straight to the descriptor, after what is
    /// buffered: a listing's megabytes are not copied once more.
    public func write(bytes: UnsafeRawBufferPointer) {
        buffer.withLock { buffered in
            if bytes.count >= Self.bufferSize {
                if !buffered.isEmpty {
                    buffered.withUnsafeBytes { writeAll($0) }
                    buffered.removeAll(keepingCapacity: true)
                }
                writeAll(bytes)
                return
            }
            buffered.append(contentsOf: bytes)
            if buffered.count >= Self.bufferSize {
                buffered.withUnsafeBytes { writeAll($0) }
                buffered.removeAll(keepingCapacity: true)
            }
        }
    }

    public func flush() {
        buffer.withLock { buffered in
            buffered.withUnsafeBytes { writeAll($0) }
            buffered.removeAll(keepingCapacity: true)
        }
    }

    private static let bufferSize = 1 << 16

    /// Writes all of `raw`, going on after interruptions; stops at another error (a closed
    /// pipe: what follows cannot be written either).
    private func writeAll(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}

/// Collects text in memory, for tests.
public final class StringSink: TextSink {
    private let stored = Mutex("")
    public init() {}
    public func write(_ text: String) { stored.withLock { $0 += text } }
    public func flush() {}
    /// Everything written so far.
    public var text: String { stored.withLock { $0 } }
}

/// Everything a command may touch besides the store: the environment, the clock, the
/// random source and the output streams. Injected, so that tests are deterministic.
public struct CommandContext: Sendable {
    /// Environment variables (`TANDEM_STORE`, `TANDEM_ACTOR`, `TANDEM_ROLE`, …).
    public var environment: [String: String]
    /// Where "now" and "today" come from.
    public var clock: any Clock
    /// Where random ids, nonces and log ids come from.
    public var random: any RandomSource
    /// The directory relative paths are resolved against.
    public var currentDirectory: String
    /// Standard output.
    public var stdout: any TextSink
    /// Standard error.
    public var stderr: any TextSink
    /// Whether the process ends when the command returns (the real process, not a test's
    /// call): then what a query loaded is left for the exit to reclaim, not freed one
    /// allocation at a time (a model of millions of rows took a tenth of a query to free).
    public var endsWithProcess = false

    public init(
        environment: [String: String], clock: any Clock, random: any RandomSource, currentDirectory: String,
        stdout: any TextSink, stderr: any TextSink
    ) {
        self.environment = environment
        self.clock = clock
        self.random = random
        self.currentDirectory = currentDirectory
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The real process: its environment, the system clock and random source, stdio.
    public static func process() -> CommandContext {
        var environment: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        let directory =
            getcwd(&buffer, buffer.count).map { _ in
                String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            } ?? "."
        var context = CommandContext(
            environment: environment, clock: SystemClock(), random: SystemRandomSource(), currentDirectory: directory,
            stdout: FileDescriptorSink.standardOutput, stderr: FileDescriptorSink.standardError)
        context.endsWithProcess = true
        return context
    }

    /// Keeps `value` alive until the process exits, if it ends with the command (else lets
    /// it go as usual): its memory is reclaimed by the exit, all at once.
    func leaveForExit<Value>(_ value: Value) {
        guard endsWithProcess else { return }
        _ = Unmanaged.passRetained(KeptForExit(value))
    }
}

/// A value kept until the process exits (`CommandContext.leaveForExit`).
private final class KeptForExit<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension CommandContext {
    /// Writes a line to standard output.
    public func print(_ line: String = "") { stdout.write(line + "\n") }

    /// The width tables may take: the terminal's (TIOCGWINSZ), else `$COLUMNS`; unlimited
    /// when standard output is not a terminal, so that a pipe or a file never sees a value
    /// cut short.
    public var tableWidth: Int {
        var size = winsize()
        if stdout is FileDescriptorSink, isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        if let columns = environment["COLUMNS"].flatMap({ Int($0) }), columns > 0 { return columns }
        return Int.max
    }

    /// Writes a warning line to standard error.
    public func warn(_ message: String) { stderr.write("warning: \(message)\n") }

    /// Resolves a path against the current directory.
    public func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : currentDirectory + "/" + path
    }
}
