/// Where the chain fields of a log line sit. Every line ends the same way,
///
///     …,"prev":"<64 hex>","hash":"<64 hex>"}
///
/// so readers find them at fixed distances from the end of the line (newline excluded)
/// without parsing it. Counted back from the end:
///
/// | bytes from the end | what |
/// |---|---|
/// | 2 | `"}` |
/// | 66 | the hash's first digit |
/// | 76 | `","hash":"` |
/// | 140 | prev's first digit |
/// | 149 | `,"prev":"` |
enum LineLayout {
    /// Hex digits of a SHA-256 digest.
    static let digestDigits = 64
    /// `,"prev":"`, before prev's digits.
    static let prevMarker: StaticString = ",\"prev\":\""
    /// `","hash":"`, between prev's digits and the hash's.
    static let hashMarker: StaticString = "\",\"hash\":\""
    /// `"}`, after the hash's digits.
    static let closing = 2

    // The distances are literals (a test holds them to the markers): computed from the
    // markers they were initialised on first use, a check for every line a reader reads.

    /// From the end of a line to the first digit of its hash.
    static let hashFromEnd = 66
    /// From the end of a line to `","hash":"`.
    static let hashMarkerFromEnd = 76
    /// From the end of a line to the first digit of prev.
    static let prevFromEnd = 140
    /// From the end of a line to `,"prev":"`.
    static let prevMarkerFromEnd = 149
    /// The shortest well-formed line: `{"seq":1,` and a little, then the chain suffix.
    static let shortestLine = 160
}
