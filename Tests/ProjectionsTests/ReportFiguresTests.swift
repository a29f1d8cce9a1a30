import EventLog
import Mentoring
import TestSupport
import Testing

@testable import Projections

/// The report's charts count over tandem rows, not views: checked against the views, on
/// seeded histories with swaps, withdrawals, completions, goals and voids.
@Suite("Report figures from rows: active tandems over time, goals by status")
struct ReportFiguresTests {
    @Test("active tandems on every day and goals by status equal counts over the views", arguments: 0..<4)
    func rowsEqualViews(seed: Int) throws {
        let directory = TemporaryDirectory()
        let (_, _, service) = try TimeTravelTests.generated(
            seed: UInt64(seed) &+ 9700, steps: 260, backdating: seed % 2 == 1, in: directory)
        let model = try service.input(QueryService.Request(viewer: .coordinator, today: AuditIndexTests.today)).model
        var checkedDays = 0, activeSeen = 0, goalsSeen = 0
        for programme in model.programmeOrder {
            let views = model.tandems(in: programme)
            let table = model.tandemRows
            let spans = ActiveSpans(table, table.rows(in: programme))
            guard let first = views.map(\.since).min() else { continue }
            // From before the first tandem to after the last end.
            var day = first.adding(days: -3)
            let last = (views.compactMap(\.until) + views.map(\.since)).max()!.adding(days: 3)
            while day <= last {
                let expected = views.filter { $0.since <= day && ($0.until.map { $0 > day } ?? true) }.count
                #expect(spans.active(on: day) == expected, "seed \(seed), \(programme), \(day)")
                activeSeen += expected
                checkedDays += 1
                day = day.adding(days: 1)
            }
            // Goals due on the very day as well: not overdue yet.
            let dues = views.flatMap { model.goals[$0.id] ?? [] }.compactMap(\.due)
            goalsSeen += dues.count
            for asOf in [first, first.adding(days: 30), last] + dues.prefix(3) {
                var reached = StatsQuery.Magnitude(), overdue = StatsQuery.Magnitude(), open = StatsQuery.Magnitude()
                for view in views {
                    let goals = model.goals[view.id] ?? []
                    let r = goals.filter { $0.reached != nil }.count
                    let o = goals.filter { $0.reached == nil && ($0.due.map { $0 < asOf } ?? false) }.count
                    reached.add(r)
                    overdue.add(o)
                    open.add(goals.count - r - o)
                }
                let status = table.goalStatus(of: table.rows(in: programme), asOf: asOf)
                #expect(status.reached == reached && status.overdue == overdue && status.open == open, "seed \(seed)")
            }
        }
        #expect(checkedDays > 30 && activeSeen > 0 && goalsSeen > 0)
    }
}
