import EventLog
import Mentoring

/// `tandem report --html`: one self-contained file for the board. Inline CSS and SVG, no
/// script, no external request (not even a namespace URL), well-formed XHTML so that any XML
/// parser reads it, and every string escaped. The analyst's version is built from the same
/// suppressed figures as `stats` and `dropouts`; only coordinators get the tandem table.
public enum HTMLReport {
    /// - Parameter by: draw one survival curve per group of this key, with the log-rank test.
    public static func render(
        _ input: QueryInput, programme asked: ProgrammeID?, by: SegmentKey? = nil
    ) throws -> QueryResult {
        try input.disclosure.permit(.report)
        let programme = try input.programme(asked)
        let stats: QueryResult, dropouts: QueryResult
        do {
            stats = try StatsQuery.run(input, .init(programme: programme.id))
            dropouts = try DropoutsQuery.run(input, .init(programme: programme.id, by: by))
        } catch var refusal as DisclosureRefusal {
            // Refused for the report that was asked for, not for the query it is built from.
            refusal.query = .report
            throw refusal
        }
        guard case .object(let s) = stats.payload, case .object(let d) = dropouts.payload else {
            preconditionFailure("queries return objects")
        }
        let policy = input.disclosure
        // The charts count over the programme's tandems as rows: a view of each of the 10M
        // store's million tandems was 200 MB and a second of the report.
        let table = input.model.tandemRows
        let numbers = table.rows(in: programme.id)
        let pairs = Population(keys: policy.keys(ofTandemRows: numbers, in: table))
        var html = Page(policy: policy, pairs: pairs, k: programme.minGroupSize)
        html.open(programme: programme, basis: input.basis)
        html.headline(s, dropouts: d)
        // The monthly chart is `tandem activity`'s figures (perturbed per month for analysts;
        // an exact view loaded without each session reads them from the model's daily counts).
        let activity = try ActivityQuery.run(input, .init(programme: programme.id))
        html.sessionsPerMonth(activity.payload.arrayValue ?? [])
        html.activeOverTime(ActiveSpans(table, numbers), programme: programme, asOf: input.asOf)
        if let groups = d["groups"]?.arrayValue {
            let shown = groups.compactMap(\.objectValue).filter { $0["suppressed"]?.boolValue != true }
            html.survival(
                shown.map { ($0["group"]?.stringValue ?? "", $0["survival"]?.arrayValue ?? []) },
                by: by?.rawValue ?? "",
                logrank: d["logrank"]?.objectValue, hiddenGroups: groups.count - shown.count)
        } else {
            html.survival(d["survival"]?.arrayValue ?? [], median: d["medianDaysToDropout"]?.intValue)
        }
        html.reasons(d["reasons"]?.objectValue ?? JSONObject())
        html.goals(table.goalStatus(of: numbers, asOf: input.asOf))
        if input.disclosure.coordinates {
            let active = table.rowsInIDOrder(programme: programme.id).filter {
                TandemStatus?(stored: table.row($0).status) ?? .active == .active
            }
            html.tandemTable(
                active.map { table.view($0, people: input.model.peopleRows) }, input: input, programme: programme)
        }
        var seen = Set<String>()
        html.notes((stats.notes + dropouts.notes).filter { seen.insert($0).inserted })
        html.close(basis: input.basis)
        var result = QueryResult(
            basis: dropouts.basis, payloadKey: "report",
            payload: .object(["programme": .string(programme.id.rawValue), "bytes": .int(Int64(html.text.utf8.count))]),
            table: TextTable(headers: [], rows: []))
        result.suppressedCells = stats.suppressedCells + dropouts.suppressedCells + activity.suppressedCells
        result.extra = [("html", .string(html.text))]
        return result
    }

    /// Escapes text for HTML and XML.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters are not allowed in XML at all.
                if c.value < 0x20 && c != "\n" && c != "\t" { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    static func number(_ value: Double, _ digits: Int = 1) -> String { Format.number(value, digits: digits) }

    /// The document being written.
    struct Page {
        var text = ""
        /// How the figures are published, and the tandems the charts count over.
        let policy: DisclosurePolicy
        let pairs: Population
        let k: Int
        /// Chart points drawn at 0 because their published count was between 1 and k − 1.
        var hiddenPoints = 0

        mutating func add(_ s: String) { text += s }

        mutating func open(programme: Programme, basis: Basis) {
            add(
                """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8" />
                <title>\(escape(programme.name)): programme report</title>
                <style>
                body { font-family: "Helvetica Neue", Arial, sans-serif; color: #1d2433; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
                h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin: 1.8rem 0 0.4rem; }
                .sub { color: #5b6478; margin-top: 0; }
                .tiles { display: flex; flex-wrap: wrap; gap: 0.8rem; }
                .tile { border: 1px solid #d5d9e2; border-radius: 6px; padding: 0.6rem 0.9rem; min-width: 8.5rem; }
                .tile b { display: block; font-size: 1.5rem; } .tile span { color: #5b6478; font-size: 0.85rem; }
                svg { max-width: 100%; height: auto; } svg text { font-size: 11px; fill: #1d2433; }
                table { border-collapse: collapse; width: 100%; font-size: 0.85rem; }
                th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #e3e6ec; }
                td.n { text-align: right; }
                .ok { color: #1a7f37; } .due { color: #9a6700; } .risk { color: #cf222e; font-weight: bold; }
                .notes { color: #5b6478; font-size: 0.85rem; }
                footer { margin-top: 2rem; color: #5b6478; font-size: 0.8rem; border-top: 1px solid #d5d9e2; padding-top: 0.5rem; }
                section { break-inside: avoid; page-break-inside: avoid; }
                @page { size: A4; margin: 15mm; }
                @media print { body { margin: 0; max-width: none; } .tile { border-color: #999; } }
                </style></head><body>
                <h1>\(escape(programme.name))</h1>
                <p class="sub">Programme \(escape(programme.id.rawValue)), \(programme.starts) to \(programme.ends), sessions every \(programme.cadenceDays) days · as of \(basis.asOf) · \(escape(basis.role.roleName)) view</p>
                <p class="sub" id="disclosure">\(policy.protects
                ? "The figures in this report are perturbed (cell-key method) and counts below \(k) are not shown, so that no one can be singled out. Small differences between figures mean nothing."
                : "The figures in this report are exact and confidential: do not pass it on beyond those entitled to see individual data.")</p>

                """)
        }

        mutating func headline(_ s: JSONObject, dropouts d: JSONObject) {
            func value(_ key: String, _ object: JSONObject) -> String {
                switch object[key] {
                case .int(let i)?: return String(i)
                case .double(let x)?: return number(x, 2)
                default: return "–"
                }
            }
            let rate = d["rate"]?.doubleValue.map { number($0 * 100, 0) + "%" } ?? "–"
            let attainment = s["goalAttainment"]?.doubleValue.map { number($0 * 100, 0) + "%" } ?? "–"
            let hours = (s["minutes"]?.intValue).map { number(Double($0) / 60, 0) } ?? "–"
            add("<section><h2>Headline numbers</h2><div class=\"tiles\">\n")
            for (label, figure) in [
                ("participants", value("participants", s)), ("matched", value("matched", s)),
                ("active tandems", value("activeTandems", s)), ("completed tandems", value("completedTandems", s)),
                ("sessions held", value("sessions", s)), ("hours of mentoring", hours),
                ("dropout rate (matched)", rate), ("goal attainment", attainment),
                ("partner swaps", value("swaps", s)), ("waiting for a partner", value("waiting", s)),
            ] {
                add("<div class=\"tile\"><b>\(escape(figure))</b><span>\(escape(label))</span></div>\n")
            }
            add("</div></section>\n")
        }

        /// A bar chart: labels along the x axis, values up.
        mutating func bars(id: String, title: String, xLabel: String, yLabel: String, data: [(String, Double)]) {
            let width = 640.0, height = 260.0, left = 64.0, right = 12.0, top = 26.0, bottom = 56.0
            let plotW = width - left - right, plotH = height - top - bottom
            let maximum = Page.roundedUp(max(1, data.map(\.1).max() ?? 1))
            let step = data.isEmpty ? plotW : plotW / Double(data.count)
            add(
                "<svg id=\"\(id)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
            )
            add("<title>\(escape(title))</title>")
            add("<text x=\"\(Int(left))\" y=\"16\" font-weight=\"bold\">\(escape(title))</text>")
            axes(
                left: left, top: top, plotW: plotW, plotH: plotH, maximum: maximum, xLabel: xLabel, yLabel: yLabel,
                height: height)
            for (i, (label, value)) in data.enumerated() {
                let h = plotH * value / maximum
                let x = left + Double(i) * step + step * 0.15
                add(
                    "<rect x=\"\(f(x))\" y=\"\(f(top + plotH - h))\" width=\"\(f(step * 0.7))\" height=\"\(f(h))\" fill=\"#3d6fb6\"><title>\(escape(label)): \(number(value, 0))</title></rect>"
                )
                if data.count <= 16 || i % 2 == 0 {
                    add(
                        "<text x=\"\(f(x + step * 0.35))\" y=\"\(f(top + plotH + 14))\" text-anchor=\"middle\">\(escape(label))</text>"
                    )
                }
            }
            add("</svg>\n")
        }

        /// Axes with round tick values on y, and the labels of both axes.
        mutating func axes(
            left: Double, top: Double, plotW: Double, plotH: Double, maximum: Double, xLabel: String, yLabel: String,
            height: Double, fraction: Bool = false
        ) {
            add(
                "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#1d2433\" />"
            )
            add(
                "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"#1d2433\" />"
            )
            let step = fraction ? 0.25 : Page.niceStep(maximum)
            var value = 0.0
            while value <= maximum + 1e-9 {
                let y = top + plotH - plotH * value / maximum
                add("<line x1=\"\(f(left - 4))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#1d2433\" />")
                add(
                    "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(fraction ? number(value, 2) : number(value, 0))</text>"
                )
                value += step
            }
            add(
                "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
            )
            add(
                "<text x=\"14\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f(top + plotH / 2)))\">\(escape(yLabel))</text>"
            )
        }

        /// `value` rounded up to a multiple of its tick step, so the top tick is labelled.
        static func roundedUp(_ value: Double) -> Double {
            let step = niceStep(value)
            return (value / step).rounded(.up) * step
        }

        /// A round step (1, 2 or 5 × 10ⁿ) giving at most five ticks up to `maximum`.
        static func niceStep(_ maximum: Double) -> Double {
            guard maximum > 0 else { return 1 }
            var magnitude = 1.0
            while magnitude * 10 <= maximum / 5 { magnitude *= 10 }
            for factor in [1.0, 2.0, 5.0, 10.0] where maximum / (magnitude * factor) <= 5 {
                return max(1, magnitude * factor)
            }
            return max(1, magnitude * 10)
        }

        /// A tick and its label on the x axis.
        mutating func xTick(_ x: Double, _ axisY: Double, _ label: String, anchor: String = "middle") {
            add("<line x1=\"\(f(x))\" y1=\"\(f(axisY))\" x2=\"\(f(x))\" y2=\"\(f(axisY + 4))\" stroke=\"#1d2433\" />")
            add("<text x=\"\(f(x))\" y=\"\(f(axisY + 16))\" text-anchor=\"\(anchor)\">\(escape(label))</text>")
        }

        static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

        /// Sessions per month, from `tandem activity`'s periods (`2027-03`).
        mutating func sessionsPerMonth(_ periods: [JSONValue]) {
            var data: [(String, Double)] = []
            var year = 0
            for period in periods.compactMap(\.objectValue) {
                guard let label = period["period"]?.stringValue, let month = Int(label.suffix(2)),
                    let y = Int(label.prefix(4))
                else { continue }
                // "Jan", with the year where it starts or changes: "Jan '27".
                data.append(
                    (
                        Page.monthNames[month - 1] + (y != year ? " \u{2019}\(String(y).suffix(2))" : ""),
                        period["sessions"]?.doubleValue ?? 0
                    ))
                year = y
            }
            add("<section><h2>Sessions per month</h2>")
            if data.isEmpty {
                add("<p>none</p>")
            } else {
                bars(
                    id: "sessions-per-month", title: "Sessions held per month", xLabel: "month", yLabel: "sessions",
                    data: data)
            }
            add("</section>\n")
        }

        mutating func activeOverTime(_ spans: ActiveSpans, programme: Programme, asOf: BusinessDate) {
            let first = programme.starts, last = min(asOf, programme.ends)
            var points: [(BusinessDate, Int)] = []
            var day = first
            func active(on day: BusinessDate) -> Int {
                let active = spans.active(on: day)
                let published = policy.count(active, in: pairs, "activeOn:\(day)")
                guard let shown = policy.shown(published, k: k) else {
                    hiddenPoints += 1
                    return 0
                }
                return shown
            }
            while day <= last {
                points.append((day, active(on: day)))
                day = day.adding(days: 7)
            }
            if points.last?.0 != last, last >= first {
                points.append((last, active(on: last)))
            }
            let width = 640.0, height = 260.0, left = 64.0, right = 12.0, top = 26.0, bottom = 56.0
            let plotW = width - left - right, plotH = height - top - bottom
            let maximum = Page.roundedUp(Double(max(1, points.map(\.1).max() ?? 1)))
            let span = Double(max(1, first.days(to: last)))
            add("<section><h2>Active tandems over time</h2>")
            add(
                "<svg id=\"active-tandems\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
            )
            add(
                "<title>Active tandems over time</title><text x=\"\(Int(left))\" y=\"16\" font-weight=\"bold\">Active tandems over time</text>"
            )
            axes(
                left: left, top: top, plotW: plotW, plotH: plotH, maximum: maximum, xLabel: "date (counted weekly)",
                yLabel: "active tandems", height: height)
            let path = points.map {
                "\(f(left + plotW * Double(first.days(to: $0.0)) / span)),\(f(top + plotH - plotH * Double($0.1) / maximum))"
            }
            if !path.isEmpty {
                add(
                    "<polyline fill=\"none\" stroke=\"#3d6fb6\" stroke-width=\"2\" points=\"\(path.joined(separator: " "))\" />"
                )
            }
            // A tick on the first of every other month.
            var month = BusinessDate(dayNumber: CivilCalendar.dayNumber(year: first.year, month: first.month, day: 1))
            var index = 0
            while month <= last {
                if month >= first, index % 2 == 0 {
                    let x = left + plotW * Double(first.days(to: month)) / span
                    xTick(
                        x, top + plotH,
                        Page.monthNames[month.month - 1]
                            + (month.month == 1 || index == 0 ? " \u{2019}\(String(month.year).suffix(2))" : ""))
                }
                index += 1
                month = BusinessDate(
                    dayNumber: CivilCalendar.dayNumber(
                        year: month.month == 12 ? month.year + 1 : month.year, month: month.month % 12 + 1, day: 1))
            }
            add("</svg></section>\n")
        }

        mutating func survival(_ rows: [JSONValue], median: Int64?) {
            let width = 640.0, height = 280.0, left = 64.0, right = 12.0, top = 26.0, bottom = 56.0
            let plotW = width - left - right, plotH = height - top - bottom
            let points = rows.compactMap { $0.objectValue }.compactMap { r -> (Double, Double, Double, Double)? in
                // A life-table row's survival holds at the end of its interval.
                guard let d = (r["until"] ?? r["day"])?.doubleValue, let s = r["survival"]?.doubleValue,
                    let lo = r["lower"]?.doubleValue, let hi = r["upper"]?.doubleValue
                else { return nil }
                return (d, s, lo, hi)
            }
            let maxDay = Page.roundedUp(max(1, points.map(\.0).max() ?? 1))
            func x(_ day: Double) -> Double { left + plotW * day / maxDay }
            func y(_ p: Double) -> Double { top + plotH - plotH * p }
            add("<section><h2>Staying in the programme</h2>")
            add(
                "<svg id=\"survival\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
            )
            add(
                "<title>Kaplan–Meier survival: share still in the programme</title><text x=\"\(Int(left))\" y=\"16\" font-weight=\"bold\">Share still in the programme (Kaplan–Meier, 95% interval)</text>"
            )
            axes(
                left: left, top: top, plotW: plotW, plotH: plotH, maximum: 1, xLabel: "days since first match",
                yLabel: "share remaining", height: height, fraction: true)
            let dayStep = Page.niceStep(maxDay)
            var tick = 0.0
            while tick <= maxDay + 1e-9 {
                xTick(x(tick), top + plotH, number(tick, 0), anchor: tick + dayStep > maxDay + 1e-9 ? "end" : "middle")
                tick += dayStep
            }
            // Steps: the curve holds its value until the next row.
            var band = ["\(f(x(0))),\(f(y(1)))"], bandLow = ["\(f(x(0))),\(f(y(1)))"], line = ["\(f(x(0))),\(f(y(1)))"]
            var previous = (1.0, 1.0, 1.0)
            for (day, s, lo, hi) in points {
                line += ["\(f(x(day))),\(f(y(previous.0)))", "\(f(x(day))),\(f(y(s)))"]
                band += ["\(f(x(day))),\(f(y(previous.2)))", "\(f(x(day))),\(f(y(hi)))"]
                bandLow += ["\(f(x(day))),\(f(y(previous.1)))", "\(f(x(day))),\(f(y(lo)))"]
                previous = (s, lo, hi)
            }
            add(
                "<polygon fill=\"#3d6fb6\" fill-opacity=\"0.18\" stroke=\"none\" points=\"\((band + bandLow.reversed()).joined(separator: " "))\"><title>95% interval</title></polygon>"
            )
            add(
                "<polyline fill=\"none\" stroke=\"#3d6fb6\" stroke-width=\"2\" points=\"\(line.joined(separator: " "))\"><title>survival estimate</title></polyline>"
            )
            add(
                "<text x=\"\(f(left + plotW - 4))\" y=\"\(f(top + plotH - 8))\" text-anchor=\"end\">median days to dropout: \(median.map(String.init) ?? "not reached")</text>"
            )
            add("</svg></section>\n")
        }

        /// The curves, one colour and dash pattern each (distinguishable in greyscale too),
        /// with a legend and the log-rank p-value.
        mutating func survival(
            _ series: [(name: String, rows: [JSONValue])], by key: String, logrank: JSONObject?, hiddenGroups: Int
        ) {
            let width = 640.0, height = 300.0, left = 64.0, right = 12.0, top = 26.0, bottom = 76.0
            let plotW = width - left - right, plotH = height - top - bottom
            let styles = [
                ("#1f5fa8", ""), ("#c2410c", "8 4"), ("#15803d", "2 3"), ("#7c3aed", "10 3 2 3"), ("#374151", "14 6"),
                ("#b91c1c", "4 2 4 6"),
            ]
            func point(_ r: JSONObject) -> (Double, Double)? {
                guard let d = (r["until"] ?? r["day"])?.doubleValue, let s = r["survival"]?.doubleValue else {
                    return nil
                }
                return (d, s)
            }
            let all = series.flatMap { $0.rows.compactMap(\.objectValue).compactMap(point) }
            let maxDay = Page.roundedUp(max(1, all.map(\.0).max() ?? 1))
            func x(_ day: Double) -> Double { left + plotW * day / maxDay }
            func y(_ p: Double) -> Double { top + plotH - plotH * p }
            add("<section><h2>Staying in the programme, by \(escape(key))</h2>")
            add(
                "<svg id=\"survival\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
            )
            add(
                "<title>Share still in the programme, one curve per \(escape(key))</title><text x=\"\(Int(left))\" y=\"16\" font-weight=\"bold\">Share still in the programme, by \(escape(key))</text>"
            )
            axes(
                left: left, top: top, plotW: plotW, plotH: plotH, maximum: 1, xLabel: "days since first match",
                yLabel: "share remaining", height: height - 20, fraction: true)
            let dayStep = Page.niceStep(maxDay)
            var tick = 0.0
            while tick <= maxDay + 1e-9 {
                xTick(x(tick), top + plotH, number(tick, 0), anchor: tick + dayStep > maxDay + 1e-9 ? "end" : "middle")
                tick += dayStep
            }
            for (i, curve) in series.enumerated() {
                let (colour, dash) = styles[i % styles.count]
                var line = ["\(f(x(0))),\(f(y(1)))"], previous = 1.0
                for (day, s) in curve.rows.compactMap(\.objectValue).compactMap(point) {
                    line += ["\(f(x(day))),\(f(y(previous)))", "\(f(x(day))),\(f(y(s)))"]
                    previous = s
                }
                add(
                    "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") points=\"\(line.joined(separator: " "))\"><title>\(escape(curve.name))</title></polyline>"
                )
                // The legend, below the axis label.
                let lx = left + Double(i % 4) * 140, ly = height - 24 + Double(i / 4) * 14
                add(
                    "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 28))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"") />"
                )
                add("<text x=\"\(f(lx + 34))\" y=\"\(f(ly + 4))\">\(escape(curve.name))</text>")
            }
            let p =
                logrank?["p"]?.doubleValue.map { "log-rank p = \(number($0, 3))" }
                ?? "no log-rank test (fewer than two groups shown)"
            add("<text x=\"\(f(left + plotW - 4))\" y=\"\(f(top + 12))\" text-anchor=\"end\">\(escape(p))</text>")
            add("</svg>")
            if series.isEmpty { add("<p>none: no group can be shown</p>") }
            if hiddenGroups > 0 {
                add("<p class=\"notes\">\(hiddenGroups) group(s) of fewer than \(k) people not drawn.</p>")
            }
            add("</section>\n")
        }

        mutating func reasons(_ reasons: JSONObject) {
            add("<section><h2>Why people withdrew</h2>")
            let shown = reasons.members.filter { $0.value != .null }
            if reasons.members.isEmpty {
                add("<p>none</p>")
            } else if shown.isEmpty {
                add(
                    "<p>suppressed: every reason was given by fewer than \(k) people, or the counts would single them out</p>"
                )
            } else {
                bars(
                    id: "withdrawal-reasons", title: "Withdrawals by reason", xLabel: "reason code", yLabel: "people",
                    data: shown.map { ($0.key, $0.value.doubleValue ?? 0) })
                if shown.count < reasons.members.count {
                    add(
                        "<p class=\"notes\">Not shown (fewer than \(k) people): \(escape(reasons.members.filter { $0.value == .null }.map(\.key).joined(separator: ", ")))</p>"
                    )
                }
            }
            add("</section>\n")
        }

        /// Goals by status, per tandem (`goals[i]` are one tandem's).
        mutating func goals(_ counts: GoalStatus) {
            func published(_ m: StatsQuery.Magnitude, _ name: String) -> Int {
                policy.magnitude(m.total, largest: m.largest, in: pairs, "goals:" + name)
            }
            let (reached, open, overdue) = (
                published(counts.reached, "reached"), published(counts.open, "open"),
                published(counts.overdue, "overdue")
            )
            add("<section><h2>Goal attainment</h2>")
            bars(
                id: "goal-attainment", title: "Goals set, by status", xLabel: "status", yLabel: "goals",
                data: [("reached", Double(reached)), ("open", Double(open)), ("overdue", Double(overdue))])
            add("</section>\n")
        }

        mutating func tandemTable(_ tandems: [TandemView], input: QueryInput, programme: Programme) {
            guard !tandems.isEmpty else {
                add("<section><h2>Active tandems</h2><p>none</p></section>\n")
                return
            }
            add(
                "<section><h2>Active tandems</h2><table><thead><tr><th>tandem</th><th>mentor</th><th>mentee</th><th>since</th><th>sessions</th><th>last session</th><th>days without</th><th>health</th></tr></thead><tbody>\n"
            )
            for tandem in tandems {
                let days = TandemsQuery.daysWithoutSession(tandem, asOf: input.asOf)
                let reasons = TandemsQuery.atRiskReasons(tandem, model: input.model, asOf: input.asOf)
                let (label, style) =
                    !reasons.isEmpty
                    ? ("at risk: " + reasons.joined(separator: "; "), "risk")
                    : days > programme.cadenceDays ? ("session due", "due") : ("on track", "ok")
                let mentor = input.name(of: tandem.mentor).stringValue ?? tandem.mentor.rawValue
                let mentee = input.name(of: tandem.mentee).stringValue ?? tandem.mentee.rawValue
                add(
                    "<tr><td>\(escape(tandem.id.rawValue))</td><td>\(escape(mentor))</td><td>\(escape(mentee))</td><td>\(tandem.since)</td><td class=\"n\">\(tandem.sessions)</td><td>\(tandem.lastSession?.description ?? "–")</td><td class=\"n\">\(days)</td><td class=\"\(style)\">\(label)</td></tr>\n"
                )
            }
            add("</tbody></table></section>\n")
        }

        mutating func notes(_ lines: [String]) {
            let lines =
                lines
                + (hiddenPoints > 0
                    ? [
                        "\(hiddenPoints) point(s) of the active-tandems chart had fewer than \(k) tandems and are drawn at 0."
                    ] : [])
            guard !lines.isEmpty else { return }
            add("<section class=\"notes\"><h2>Notes</h2><ul>")
            for line in lines { add("<li>\(escape(line))</li>") }
            add("</ul></section>\n")
        }

        mutating func close(basis: Basis) {
            add(
                "<footer>Basis: log seq \(basis.head.seq), hash \(basis.head.hash.hex), as of \(basis.asOf)\(basis.knownAt.map { ", known at \(escape($0))" } ?? ""), \(escape(basis.role.description)) view. Generated by \(escape("tandem")); check it with tandem verify --anchor \(basis.head.seq):\(basis.head.hash.hex).</footer>\n</body></html>\n"
            )
        }

        func f(_ value: Double) -> String { Format.number(value, digits: 1) }
    }
}

/// When each of some tandems was active, as two sorted lists of days: the days they began,
/// and the days they stopped being active (ended, or began if they ended before that).
/// A tandem is active on a day from its start up to, not including, its end.
struct ActiveSpans {
    private var starts: [Int32] = [], stops: [Int32] = []

    /// The spans of the tandems in `numbers` of `table`.
    /// - Complexity: O(n log n).
    init(_ table: TandemRows, _ numbers: [Int32]) {
        starts.reserveCapacity(numbers.count)
        for number in numbers {
            let row = table.row(number)
            starts.append(row.since)
            // Active on d when since ≤ d < until: those with since ≤ d, less those with
            // since ≤ d and until ≤ d, which is max(since, until) ≤ d.
            if BusinessDate?(stored: row.until) != nil { stops.append(max(row.since, row.until)) }
        }
        starts.sort()
        stops.sort()
    }

    /// How many were active on `day`.
    /// - Complexity: O(log n).
    func active(on day: BusinessDate) -> Int {
        let d = Int32(clamping: day.dayNumber)
        return Self.count(starts, atMost: d) - Self.count(stops, atMost: d)
    }

    /// How many of the sorted `days` are at most `day`.
    static func count(_ days: [Int32], atMost day: Int32) -> Int {
        var low = 0, high = days.count
        while low < high {
            let mid = (low + high) / 2
            if days[mid] <= day { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// The goals of some tandems by status on a day, as magnitudes (each tandem contributing
/// its own count): what the report's goal chart publishes.
struct GoalStatus {
    var reached = StatsQuery.Magnitude(), overdue = StatsQuery.Magnitude(), open = StatsQuery.Magnitude()
}

extension TandemRows {
    /// The goals of the tandems in `numbers` by status on `asOf`: reached; overdue (not
    /// reached, due before `asOf`); open (the rest). Read from the goal rows, no view made.
    func goalStatus(of numbers: [Int32], asOf: BusinessDate) -> GoalStatus {
        var status = GoalStatus()
        let today = asOf.dayNumber
        for number in numbers {
            var reached = 0, overdue = 0, all = 0
            var g = rows[number].firstGoal
            while g >= 0 {
                let goal = goalRows[g]
                all += 1
                if BusinessDate?(stored: goal.reached) != nil {
                    reached += 1
                } else if let due = BusinessDate?(stored: goal.due), due.dayNumber < today {
                    overdue += 1
                }
                g = goal.next
            }
            status.reached.add(reached)
            status.overdue.add(overdue)
            status.open.add(all - reached - overdue)
        }
        return status
    }
}
