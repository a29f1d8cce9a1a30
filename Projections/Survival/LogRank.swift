#if canImport(Glibc)
    import Glibc
#endif

/// The multivariate log-rank test: do the survival curves of several groups differ?
///
/// At every time with a dropout, each group's expected dropouts are its share of those at
/// risk times all dropouts then; the statistic is (O − E)ᵀ V⁻¹ (O − E) over all groups but
/// the last, with the hypergeometric covariance V, and is χ²-distributed with groups − 1
/// degrees of freedom. The same arithmetic as lifelines' `multivariate_logrank_test`
/// (which uses a pseudo-inverse; so does this, where V is singular).
public enum LogRank {
    /// The test's result.
    public struct Result: Sendable, Equatable {
        public var statistic: Double
        public var degreesOfFreedom: Int
        public var p: Double
    }

    /// One time point: each group's number at risk and number of dropouts.
    public struct Point: Sendable, Equatable {
        public var atRisk: [Double]
        public var events: [Double]
        public init(atRisk: [Double], events: [Double]) {
            self.atRisk = atRisk
            self.events = events
        }
    }

    /// The test over individual observations, one list per group.
    /// - Returns: nil with fewer than two groups.
    /// - Complexity: O(n log n + t·g²) for n observations, t distinct times and g groups.
    public static func test(_ groups: [[KaplanMeier.Observation]]) -> Result? {
        guard groups.count >= 2 else { return nil }
        // Per group, its tally: those at risk (duration ≥ t) and its dropouts at t by binary search.
        let tallies = groups.map(DurationTally.init)
        var times: Set<Int> = []
        for tally in tallies {
            for (i, day) in tally.days.enumerated() where tally.events[i] > 0 { times.insert(day) }
        }
        let points = times.sorted().map { t in
            Point(
                atRisk: tallies.map { Double($0.lasting(atLeast: t)) },
                events: tallies.map { Double($0.events(from: t, to: t + 1)) })
        }
        return test(points: points)
    }

    /// The test over time points (a life table's intervals, for perturbed counts).
    public static func test(points: [Point]) -> Result? {
        guard let g = points.first?.atRisk.count, g >= 2 else { return nil }
        var observedMinusExpected = [Double](repeating: 0, count: g)
        var v = [[Double]](repeating: [Double](repeating: 0, count: g), count: g)
        for point in points {
            let n = point.atRisk.reduce(0, +), d = point.events.reduce(0, +)
            guard n > 0, d > 0 else { continue }
            for i in 0..<g { observedMinusExpected[i] += point.events[i] - d * point.atRisk[i] / n }
            // lifelines replaces the undefined (n − d)/(n − 1) at n = 1 by 1.
            let correction = n > 1 ? (n - d) / (n - 1) : 1
            let factor = correction * d / (n * n)
            for i in 0..<g {
                for j in 0..<g {
                    v[i][j] += factor * point.atRisk[i] * ((i == j ? n : 0) - point.atRisk[j])
                }
            }
        }
        let m = g - 1
        let z = Array(observedMinusExpected[0..<m])
        let statistic = quadraticForm(z, Array(v[0..<m].map { Array($0[0..<m]) }))
        return Result(statistic: statistic, degreesOfFreedom: m, p: ChiSquared.survival(statistic, degreesOfFreedom: m))
    }

    /// zᵀ A⁺ z for a symmetric positive semi-definite A: the eigen-decomposition (Jacobi)
    /// gives the pseudo-inverse, dropping eigenvalues that are zero to rounding, as numpy's
    /// `pinv` does (relative cutoff 1e-15 of the largest).
    static func quadraticForm(_ z: [Double], _ a: [[Double]]) -> Double {
        let (values, vectors) = symmetricEigen(a)
        let largest = values.map(abs).max() ?? 0
        var sum = 0.0
        for (k, lambda) in values.enumerated() where abs(lambda) > 1e-15 * largest * Double(max(1, values.count)) {
            var projection = 0.0
            for i in z.indices { projection += vectors[i][k] * z[i] }
            sum += projection * projection / lambda
        }
        return sum
    }

    /// Eigenvalues and eigenvectors (as columns) of a symmetric matrix, by cyclic Jacobi
    /// rotations. The matrices here are small (groups − 1 square).
    static func symmetricEigen(_ input: [[Double]]) -> ([Double], [[Double]]) {
        var a = input
        let n = a.count
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p][q] != 0 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }
}

/// The χ² distribution's upper tail, for p-values.
public enum ChiSquared {
    /// P(X ≥ x) for X ~ χ²(k): the regularised upper incomplete gamma Q(k/2, x/2), by its
    /// series below a + 1 and its continued fraction above (Numerical Recipes, §6.2), to
    /// about 1e-15.
    public static func survival(_ x: Double, degreesOfFreedom k: Int) -> Double {
        guard x > 0 else { return 1 }
        let a = Double(k) / 2, z = x / 2
        let logPrefix = a * log(z) - z - lgamma(a)
        if z < a + 1 {
            var term = 1 / a, sum = term, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= z / n
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        // Lentz's method for the continued fraction.
        let tiny = 1e-300
        var b = z + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-17 { break }
        }
        return exp(logPrefix) * h
    }
}
