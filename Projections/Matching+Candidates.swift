import Mentoring

extension Matching {
    /// Every eligible pair of a pool with its score (rounded to 4 decimals, no reasons),
    /// mentor by mentor, each side in id order.
    ///
    /// The pairs are scored as they are read, not held: a pool of 45,000 mentors and 1,000
    /// mentees has 45 million of them, 2 GB as values.
    public struct Candidates: Sequence, Sendable {
        /// How many pairs there are.
        public let count: Int
        let prepared: Prepared?
        let allowSameUnit: Bool
        let weights: Weights

        /// The pairs of `prepared`'s pool (none if nil), of which there are `count`.
        init(_ prepared: Prepared?, count: Int, allowSameUnit: Bool, weights: Weights) {
            self.prepared = prepared
            self.count = count
            self.allowSameUnit = allowSameUnit
            self.weights = weights
        }

        /// All of them: the count is known before any is scored.
        public var underestimatedCount: Int { count }

        /// The pool's mentors in id order: the positions `forEachPosition` gives.
        public var mentorIDs: [ParticipantID] { prepared?.mentors.map(\.id) ?? [] }
        /// The pool's mentees in id order: the positions `forEachPosition` gives.
        public var menteeIDs: [ParticipantID] { prepared?.mentees.map(\.id) ?? [] }

        /// The pairs in order as positions in `mentorIDs` and `menteeIDs`, with the score,
        /// for a writer that encodes each person once rather than once per pair.
        public func forEachPosition(_ body: (_ mentor: Int, _ mentee: Int, _ score: Double) -> Void) {
            guard let prepared else { return }
            for m in prepared.mentors.indices {
                for e in prepared.mentees.indices where prepared.eligible(m, e, allowSameUnit: allowSameUnit) {
                    body(m, e, round4(prepared.score(m, e, weights)))
                }
            }
        }

        /// Reads the pairs from the first.
        public func makeIterator() -> Iterator {
            Iterator(prepared: prepared, allowSameUnit: allowSameUnit, weights: weights)
        }

        /// Reads the pairs in order, scoring each as it comes.
        public struct Iterator: IteratorProtocol {
            let prepared: Prepared?
            let allowSameUnit: Bool
            let weights: Weights
            var mentor = 0, mentee = 0

            /// The next eligible pair, scored; nil after the last.
            public mutating func next() -> Pair? {
                guard let prepared else { return nil }
                let mentees = prepared.mentees.count
                while mentor < prepared.mentors.count {
                    if mentee == mentees {
                        mentor += 1
                        mentee = 0
                        continue
                    }
                    let (m, e) = (mentor, mentee)
                    mentee += 1
                    if prepared.eligible(m, e, allowSameUnit: allowSameUnit) {
                        return Pair(
                            mentor: prepared.mentors[m].id, mentee: prepared.mentees[e].id,
                            score: round4(prepared.score(m, e, weights)), reasons: [])
                    }
                }
                return nil
            }
        }
    }
}
