import EventLog
import Testing

@testable import Projections

/// Records read on another thread while they are filed: the order, the end, and every
/// failure of either side, against reading them in line.
@Suite("Pipelined reads: records read on another thread arrive in order, and failures are the same")
struct PipelinedReadTests {
    /// `count` varints, then a marker the reader must end before.
    private func bytes(_ count: Int) -> [UInt8] {
        var w = SnapshotWriter()
        for i in 0..<count { w.write(UInt64(i) &* 2_654_435_761 % 1_000_003) }
        w.write(UInt64(7_777_777))
        return w.bytes
    }

    private func read(
        _ bytes: [UInt8], count: Int, inlineBelow: Int, failAt: Int? = nil
    ) -> Result<([UInt64], end: Int), SnapshotError> {
        bytes.withUnsafeBytes { raw in
            var seen: [UInt64] = []
            do throws(SnapshotError) {
                let end = try ProjectionSnapshot.pipelined(
                    count, from: SnapshotReader(raw), inlineBelow: inlineBelow,
                    decode: { r throws(SnapshotError) in try r.readUInt64() }
                ) { value throws(SnapshotError) in
                    if seen.count == failAt { throw .malformed("refused at \(seen.count)") }
                    seen.append(value)
                }
                return .success((seen, end))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("in order and ending where reading in line ends, across batch boundaries")
    func sameAsInLine() throws {
        for count in [0, 1, 1023, 1024, 1025, 5000, 20_000] {
            let data = bytes(count)
            let inLine = try read(data, count: count, inlineBelow: .max).get()
            let piped = try read(data, count: count, inlineBelow: 0).get()
            #expect(piped.0 == inLine.0 && piped.end == inLine.end, "\(count) records")
            var r = data.withUnsafeBytes { SnapshotReader(UnsafeRawBufferPointer(rebasing: $0[piped.end...])) }
            #expect(try r.readUInt64() == 7_777_777, "\(count) records")
            _ = r
        }
    }

    @Test("a record cut short, or one the filing side refuses, fails the read, wherever it falls")
    func failures() {
        let data = bytes(5000)
        // (The marker after the records is 4 bytes: a cut 5 bytes from the end falls in the last record.)
        for cut in [1, 2000, data.count - 5] {
            let short = Array(data[..<cut])
            let inLine = read(short, count: 5000, inlineBelow: .max)
            let piped = read(short, count: 5000, inlineBelow: 0)
            guard case .failure = inLine, case .failure = piped else {
                Issue.record("a read cut at \(cut) succeeded")
                continue
            }
        }
        for failAt in [0, 1024, 3333, 4999] {
            guard case .failure(let error) = read(data, count: 5000, inlineBelow: 0, failAt: failAt) else {
                Issue.record("a refusal at \(failAt) was not reported")
                continue
            }
            #expect(error == .malformed("refused at \(failAt)"))
        }
    }
}
