import Dispatch
import EventLog

/// Sets every element of `array` to `make(position)`, the positions cut into one range per
/// core, each range on its own thread: what a pass over half a million records does on one
/// core while the other waits. The array's memory is filled in place (joining parts made
/// apart held the result twice).
/// `make` runs on several threads at once: it may only read what it shares.
/// - Throws: the first error of a range, in range order; the array is then partly filled.
func fillInParts<T>(_ array: inout [T], parts: Int = LogVerifier.processorCount, _ make: (Int) throws -> T) throws {
    try fillInParts(
        &array, parts: parts,
        ranges: { range, buffer in
            for position in range { buffer[position] = try make(position) }
        })
}

/// `fillInParts` for makers that set a range of positions at a time (two record keys hashed
/// side by side): `fill` is given each part's range and the whole array's buffer, and sets
/// every position of its range (and no other).
/// - Throws: the first error of a range, in range order; the array is then partly filled.
func fillInParts<T>(
    _ array: inout [T], parts: Int = LogVerifier.processorCount,
    ranges fill: (Range<Int>, UnsafeMutableBufferPointer<T>) throws -> Void
) throws {
    try array.withUnsafeMutableBufferPointer { buffer in
        let shared = SharedBuffer(buffer: buffer)
        try inParts(count: buffer.count, parts: parts) { try fill($0, shared.buffer) }
    }
}

/// Runs `body` over `0..<count` cut into one range per core, each range on its own thread
/// (one range, on this thread, for fewer than 4,096 positions each): a pass that checks or
/// fills what each position says. `body` runs on several threads at once: it may only read
/// what it shares, and write what belongs to its own range.
/// - Throws: the first error of a range, in range order.
func inParts(count: Int, parts: Int = LogVerifier.processorCount, _ body: (Range<Int>) throws -> Void) throws {
    let parts = max(1, min(parts, count / 4096))
    guard parts > 1 else {
        try body(0..<count)
        return
    }
    try withoutActuallyEscaping(body) { body in
        let shared = SharedParts(body: body, failures: .allocate(capacity: parts))
        shared.failures.initialize(repeating: nil)
        defer {
            _ = shared.failures.deinitialize()
            shared.failures.deallocate()
        }
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            do {
                try shared.body((count * part / parts)..<(count * (part + 1) / parts))
            } catch {
                shared.failures[part] = error
            }
        }
        if let failure = shared.failures.lazy.compactMap({ $0 }).first { throw failure }
    }
}

/// What the threads of `inParts` share: each writes its own failure.
private struct SharedParts: @unchecked Sendable {
    let body: (Range<Int>) throws -> Void
    let failures: UnsafeMutableBufferPointer<(any Error)?>
}

/// An array's buffer, written by the threads of `fillInParts`, each at its own positions.
private struct SharedBuffer<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
}
