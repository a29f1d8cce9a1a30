import EventLog
import Foundation
import TandemCLI
import TestSupport
import Testing

/// Standard output as a buffered writer: strings and byte runs of every size come out in
/// the order they were written, the large runs written straight through.
@Suite("Output sink: buffered and straight-through writes keep their order")
struct OutputSinkTests {
    @Test("strings and byte runs below, at and above the buffer's size come out whole and in order")
    func order() throws {
        let directory = TemporaryDirectory("tandem-sink")
        let path = directory.appending("out")
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        let sink = FileDescriptorSink(fd: fd)
        var g = SeededGenerator(seed: 65_536)
        var expected: [UInt8] = []
        for round in 0..<200 {
            let size = [0, 1, 7, 100, 65_535, 65_536, 65_537, 300_000][Int.random(in: 0..<8, using: &g)]
            let byte = UInt8(ascii: "a") + UInt8(round % 26)
            let run = [UInt8](repeating: byte, count: size) + [UInt8(ascii: "\n")]
            if round % 3 == 0 {
                sink.write(String(decoding: run, as: UTF8.self))
            } else {
                run.withUnsafeBytes { sink.write(bytes: $0) }
            }
            expected += run
        }
        sink.flush()
        #expect(Files.read(path) == expected)
    }
}
