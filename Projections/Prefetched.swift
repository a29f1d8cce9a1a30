import Dispatch

/// A value made on another thread while the caller does something else, and waited for
/// when it is needed: a snapshot's lookup tables, read while its people are decoded.
final class Prefetched<Value: Sendable>: @unchecked Sendable {
    // Written once on the making thread before `made` is signalled; read only after a wait.
    private var value: Value?
    private let made = DispatchSemaphore(value: 0)

    /// Starts making the value.
    init(_ make: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.value = make()
            self.made.signal()
        }
    }

    /// The value, once made (waiting for it if need be; any number of times).
    func wait() -> Value {
        made.wait()
        defer { made.signal() }
        return value!
    }
}
