import EventLog
import Mentoring
import Projections
import Testing

@Suite("Suppression: hand-computed tables")
struct SuppressionTests {
    @Test("primary suppression alone could be undone by subtraction; complementary suppression prevents it")
    func complementary() {
        // Groups of 1, 3, 4 and 4 (total 12 is shown). Hiding only the 1 leaves it as 12 − 3 − 4 − 4.
        #expect(Suppression.column(sizes: [1, 3, 4, 4], k: 3) == [.smallGroup, .complementary, nil, nil])
        // Two small cells (2 + 2 = 4 < 5): together still fewer than k, so the next smallest goes too.
        #expect(Suppression.column(sizes: [10, 2, 2, 9], k: 5) == [nil, .smallGroup, .smallGroup, .complementary])
        // Small cells that together cover k people need no partner.
        #expect(Suppression.column(sizes: [4, 4, 4], k: 5) == [.smallGroup, .smallGroup, .smallGroup])
        #expect(Suppression.column(sizes: [3, 9, 2], k: 3) == [nil, nil, .smallGroup].enumerated().map { $0.offset == 0 ? .complementary : $0.element })
        // Nothing to hide.
        #expect(Suppression.column(sizes: [6, 7, 8], k: 5) == [nil, nil, nil])
        // A lone small cell with nothing else to hide behind stays hidden alone.
        #expect(Suppression.column(sizes: [3], k: 5) == [.smallGroup])
        // Ties go to the first cell.
        #expect(Suppression.column(sizes: [1, 6, 6], k: 5) == [.smallGroup, .complementary, nil])
    }

    @Test("attribute disclosure: 'all 6 in Legal withdrew' is suppressed, and protected from subtraction")
    func attribute() {
        let rows = Suppression.column(sizes: [6, 7, 8], k: 5)
        // Legal: 6 of 6 withdrew. Hiding it alone leaves it as total − 2 − 0.
        let withdrawn = Suppression.attributeColumn(counts: [6, 2, 0], sizes: [6, 7, 8], rowReasons: rows, k: 5)
        #expect(withdrawn == [.attribute, .complementary, nil])
        // None withdrew is not disclosed by the rule; some did is fine.
        #expect(Suppression.attributeColumn(counts: [0, 3, 8 - 1], sizes: [6, 7, 8], rowReasons: rows, k: 5) == [nil, nil, nil])
    }

    @Test("explanations count cells and reasons, never values")
    func explanations() {
        let reasons: [SuppressionReason?] = [.smallGroup, .complementary, nil, .attribute]
        let text = Suppression.explain(reasons, k: 5)
        #expect(text == "3 cells suppressed (k = 5): 1 about fewer than 5 people; 1 so that those cannot be worked out from the totals; 1 where the figure would be true of everyone in the group")
        #expect(Suppression.explain([nil, nil], k: 5) == nil)
        #expect(Suppression.summary(reasons, k: 5).description == #"{"k":5,"cells":3,"reasons":{"small-group":1,"complementary":1,"attribute":1}}"#)
    }

    @Test("filters: the filtered group and its complement must both reach k")
    func filters() {
        #expect(throws: DisclosureRefusal.self) { try Suppression.checkFilter("x", selected: 4, parent: 20, k: 5, query: .stats) }
        #expect(throws: DisclosureRefusal.self) { try Suppression.checkFilter("x", selected: 17, parent: 20, k: 5, query: .stats) }
        #expect(throws: Never.self) { try Suppression.checkFilter("x", selected: 10, parent: 20, k: 5, query: .stats) }
        // The refusal names the command that was run.
        do {
            try Suppression.checkFilter("--programme b", selected: 2, parent: 20, k: 5, query: .dropouts)
        } catch {
            #expect(error.description.hasPrefix("the analyst view may not run `tandem dropouts`"))
        }
        #expect(throws: Never.self) { try Suppression.checkFilter("x", selected: 20, parent: 20, k: 5, query: .stats) }
    }

    @Test("roles: who may run what")
    func permissions() {
        func allowed(_ viewer: Viewer, _ query: QueryKind) -> Bool { (try? viewer.permit(query)) != nil }
        #expect(!allowed(.analyst, .tandems) && allowed(.analyst, .statsBySegment) && allowed(.analyst, .atRisk))
        #expect(!allowed(.analyst, .audit) && !allowed(.analyst, .goals) && !allowed(.analyst, .sessions) && !allowed(.analyst, .suggest))
        #expect(allowed(.auditor, .audit) && allowed(.auditor, .tandems) && !allowed(.auditor, .statsBySegment) && !allowed(.auditor, .suggest))
        let me = Viewer.participant(ParticipantID("m1")!)
        #expect(allowed(me, .tandems) && allowed(me, .sessions) && allowed(me, .goals) && !allowed(me, .stats) && !allowed(me, .audit))
        for query in [QueryKind.tandems, .stats, .audit, .goals, .sessions, .suggest, .due, .report, .access] { #expect(allowed(.coordinator, query)) }
    }
}
