import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// A value made on another thread while the caller does something else, and waited for
/// when it is needed: a snapshot's lookup tables, read while its people are decoded.
final class Prefetched<Value: Sendable>: @unchecked Sendable {
    // Written once on the making thread before `made` is signalled; read only after a wait.
    private var value: Value?
    private let made = DispatchSemaphore(value: 0)

    /// Starts making the value on a thread of the system's pool (which, on two cores, runs
    /// two such values at once and queues the rest).
    init(_ make: @escaping @Sendable () -> Value) {
        DispatchQueue.global().async {
            self.value = make()
            self.made.signal()
        }
    }

    /// Starts making the value on a thread of its own, so that it is not queued behind
    /// others in the pool: the scheduler shares the cores among all of them. (If no thread
    /// can be had, the pool makes it.)
    static func onThreadOfItsOwn(_ make: @escaping @Sendable () -> Value) -> Prefetched {
        let prefetched = Prefetched(deferred: ())
        prefetched.start(make)
        return prefetched
    }

    private func start(_ make: @escaping @Sendable () -> Value) {
        let job: @Sendable () -> Void = {
            self.value = make()
            self.made.signal()
        }
        let box = Unmanaged.passRetained(ThreadJob(job))
        var thread = pthread_t()
        let started = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<ThreadJob>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, box.toOpaque())
        if started == 0 {
            pthread_detach(thread)
        } else {
            box.release()
            DispatchQueue.global().async(execute: job)
        }
    }

    /// Nothing started yet (`onThreadOfItsOwn(_:)` starts it).
    private init(deferred: Void) {}

    /// The value, once made (waiting for it if need be; any number of times).
    func wait() -> Value {
        made.wait()
        defer { made.signal() }
        return value!
    }

    /// The value, once made, moved out: held once, its first change copies nothing (a value
    /// from `wait()` shares its storage with the one kept here). Called once, after which
    /// `wait()` and `take()` may not be.
    func take() -> Value {
        made.wait()
        return value.take()!
    }
}

/// A closure handed to a new thread.
private final class ThreadJob: Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
