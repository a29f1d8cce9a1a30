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
    let count = array.count
    let parts = max(1, min(parts, count / 4096))
    guard parts > 1 else {
        try array.withUnsafeMutableBufferPointer { try fill(0..<count, $0) }
        return
    }
    try withoutActuallyEscaping(fill) { fill in
        try array.withUnsafeMutableBufferPointer { buffer in
            let shared = SharedParts(buffer: buffer, fill: fill, failures: .allocate(capacity: parts))
            shared.failures.initialize(repeating: nil)
            defer {
                _ = shared.failures.deinitialize()
                shared.failures.deallocate()
            }
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                do {
                    try shared.fill((count * part / parts)..<(count * (part + 1) / parts), shared.buffer)
                } catch {
                    shared.failures[part] = error
                }
            }
            if let failure = shared.failures.lazy.compactMap({ $0 }).first { throw failure }
        }
    }
}

/// What the threads of `fillInParts` share: each writes its own positions and its own failure.
private struct SharedParts<T>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<T>
    let fill: (Range<Int>, UnsafeMutableBufferPointer<T>) throws -> Void
    let failures: UnsafeMutableBufferPointer<(any Error)?>
}
