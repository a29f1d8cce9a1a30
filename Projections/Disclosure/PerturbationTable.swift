#if canImport(Glibc)
    import Glibc
#endif

/// The perturbation table of the cell-key method: for each true count, the published counts
/// it may become and their probabilities. A cell's key (uniform on 0..<2³²) picks one, so the
/// same people always give the same published figure.
///
/// Built once, deterministically, by the maximum-entropy method of the `ptable` R package
/// (Destatis): for a true count `i`, the published count `j` ranges over
/// `max(0, i − D) … i + D`, without `1 … js` (small positive counts are never published),
/// and only multiples of `base`. Among all distributions on that support with mean `i`
/// (unbiased) and variance `V`, it takes the one of greatest entropy. Where no distribution
/// has variance `V` (near zero, or when the support has two points), it takes the feasible
/// variance nearest to `V`.
///
/// The default is `base` 3: every published count is a multiple of 3, which is unbiased
/// random rounding to base 3 (Statistics New Zealand's RR3) made consistent by the cell key.
/// Why not `base` 1, the `ptable` default: two cells that differ by one person publish the
/// same figure far more often under rounding (0.59 against 0.22 of the time), and that is
/// what defeats a differencing attack. `DisclosureAttackTests` measures both.
public struct PerturbationTable: Sendable, Equatable {
    /// The largest change: |published − true| ≤ D.
    public let maximumDeviation: Int
    /// The variance the maximum-entropy fit aims at.
    public let targetVariance: Double
    /// Positive counts up to this are never published (they become 0 or more than `js`).
    public let smallestHidden: Int
    /// Published counts are multiples of this.
    public let base: Int
    /// Row `i`: the published counts and the upper bounds of their key ranges.
    private let rows: [[Entry]]

    /// One published value and where its key range ends.
    struct Entry: Sendable, Equatable {
        var published: Int
        var probability: Double
        /// Keys below this (and at or above the previous entry's) publish `published`.
        var keyBound: UInt64
    }

    /// The default: D = 2, V = 1, js = 2, base 3.
    public static let standard = PerturbationTable(maximumDeviation: 2, variance: 1, smallestHidden: 2, base: 3)

    /// Builds the table.
    /// - Precondition: `maximumDeviation ≥ base − 1` (else a count between two multiples could
    ///   not be rounded), and `smallestHidden ≤ maximumDeviation` (else a count of 1 could not
    ///   reach a publishable value and stay unbiased).
    public init(maximumDeviation: Int, variance: Double, smallestHidden: Int, base: Int) {
        precondition(base >= 1 && maximumDeviation >= base - 1 && smallestHidden <= maximumDeviation && variance >= 0)
        self.maximumDeviation = maximumDeviation
        targetVariance = variance
        self.smallestHidden = smallestHidden
        self.base = base
        // Rows past this one repeat with period `base`: their supports are the same shape.
        let last = smallestHidden + 2 * maximumDeviation + 2 * base
        rows = (0...last).map { Self.row(count: $0, maximumDeviation, variance, smallestHidden, base) }
    }

    /// The published count for a true count and a cell key.
    /// - Complexity: O(D).
    public func published(_ count: Int, key: CellKey) -> Int {
        precondition(count >= 0)
        let (row, shift) = self.row(for: count)
        let k = UInt64(key.value)
        for entry in row where k < entry.keyBound { return entry.published + shift }
        return row[row.count - 1].published + shift
    }

    /// The distribution for a true count: published values and probabilities.
    public func distribution(_ count: Int) -> [(published: Int, probability: Double)] {
        let (row, shift) = self.row(for: count)
        return row.map { ($0.published + shift, $0.probability) }
    }

    /// The variance of the noise for a true count.
    public func variance(_ count: Int) -> Double {
        distribution(count).reduce(0) {
            $0 + $1.probability * Double($1.published - count) * Double($1.published - count)
        }
    }

    /// The mean variance over the counts whose rows repeat (the large ones): what the
    /// outputs print as `V`.
    public var publishedVariance: Double {
        let first = rows.count - base
        return (first..<rows.count).map(variance).reduce(0, +) / Double(base)
    }

    private func row(for count: Int) -> ([Entry], Int) {
        if count < rows.count { return (rows[count], 0) }
        let first = rows.count - base
        let same = first + (count - first) % base
        return (rows[same], count - same)
    }

    /// The maximum-entropy row of one true count.
    static func row(count i: Int, _ d: Int, _ v: Double, _ js: Int, _ base: Int) -> [Entry] {
        let support = (max(0, i - d)...(i + d)).filter { j in !(1...max(1, js)).contains(j) || js == 0 }.filter {
            $0 % base == 0
        }
        let offsets = support.map { Double($0 - i) }
        let probabilities = MaximumEntropy.fit(offsets: offsets, variance: v)
        var cumulative = 0.0
        var entries: [Entry] = []
        for (j, p) in zip(support, probabilities) where p > 0 {
            cumulative += p
            entries.append(
                Entry(published: j, probability: p, keyBound: UInt64((min(1, cumulative) * 4_294_967_296).rounded())))
        }
        entries[entries.count - 1].keyBound = 1 << 32
        return entries
    }
}

/// The maximum-entropy distribution on a few points with mean 0 and a given variance.
enum MaximumEntropy {
    /// Probabilities on `offsets` (which must include values ≤ 0 and ≥ 0) with mean 0 and
    /// variance as near `variance` as the points allow, of greatest entropy.
    ///
    /// The solution has the form p ∝ exp(a·x + b·x²); a and b come from Newton's method on
    /// the convex dual, log Z(a, b) − b·V. A variance outside what the points allow is met
    /// at the nearest end, by the two-point distribution that reaches it.
    static func fit(offsets x: [Double], variance: Double) -> [Double] {
        precondition(x.contains { $0 <= 0 } && x.contains { $0 >= 0 }, "an unbiased row needs points on both sides")
        if x.count == 1 { return [1] }
        // Mean-zero distributions are mixtures of two-point ones (x⁻ < 0 < x⁺, or 0 alone).
        var extremes: [(variance: Double, p: [Double])] = []
        for (a, xa) in x.enumerated() where xa < 0 {
            for (b, xb) in x.enumerated() where xb > 0 {
                var p = [Double](repeating: 0, count: x.count)
                p[b] = -xa / (xb - xa)
                p[a] = 1 - p[b]
                extremes.append((-xa * xb, p))
            }
        }
        if let zero = x.firstIndex(of: 0) {
            var p = [Double](repeating: 0, count: x.count)
            p[zero] = 1
            extremes.append((0, p))
        }
        let low = extremes.min { $0.variance < $1.variance }!, high = extremes.max { $0.variance < $1.variance }!
        if variance <= low.variance + 1e-12 { return low.p }
        if variance >= high.variance - 1e-12 { return high.p }
        var a = 0.0, b = 0.0
        for _ in 0..<200 {
            let w = x.map { exp(a * $0 + b * $0 * $0) }
            let z = w.reduce(0, +)
            let p = w.map { $0 / z }
            func moment(_ f: (Double) -> Double) -> Double { zip(p, x).reduce(0) { $0 + $1.0 * f($1.1) } }
            let m1 = moment { $0 }, m2 = moment { $0 * $0 }, m3 = moment { $0 * $0 * $0 },
                m4 = moment { $0 * $0 * $0 * $0 }
            let g = (m1, m2 - variance)
            if abs(g.0) < 1e-15 && abs(g.1) < 1e-15 { return p }
            // Hessian: the covariance of (x, x²).
            let h11 = m2 - m1 * m1, h12 = m3 - m1 * m2, h22 = m4 - m2 * m2
            let det = h11 * h22 - h12 * h12
            guard det > 1e-300 else { break }
            a -= (h22 * g.0 - h12 * g.1) / det
            b -= (h11 * g.1 - h12 * g.0) / det
        }
        let w = x.map { exp(a * $0 + b * $0 * $0) }
        let z = w.reduce(0, +)
        return w.map { $0 / z }
    }
}
