import Dispatch
import Synchronization

/// Work started on another thread now, whose result is collected later: two passes over
/// the store that can run side by side.
final class BackgroundResult<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    /// Starts `work` on a global queue.
    init(_ work: @escaping @Sendable () throws -> Value) {
        DispatchQueue.global().async { [self] in
            let outcome = Result { try work() }
            result.withLock { $0 = outcome }
            done.signal()
        }
    }

    /// Waits for the work and returns what it returned.
    /// - Throws: what the work threw.
    func value() throws -> Value {
        done.wait()
        done.signal()  // later calls return at once
        return try result.withLock { $0! }.get()
    }
}
