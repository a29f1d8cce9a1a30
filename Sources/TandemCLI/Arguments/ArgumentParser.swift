/// A command line that cannot be parsed: exit code 64, the message, and the command it
/// concerns (for the usage line).
public struct UsageError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// The command path the error concerns.
    public var path: [String]

    public init(_ message: String, path: [String]) {
        self.message = message
        self.path = path
    }

    public var description: String { message }
}

/// What the command line asks for.
public enum ParseOutcome: Sendable {
    /// Run this command.
    case run(ParsedCommand)
    /// Print help for the command at this path.
    case help([String])
    /// Print the version.
    case version
}

/// Parses argv against a command tree, with swift-argument-parser's conventions:
/// `--name value` and `--name=value`, `--` ends options, unknown names get a suggestion.
public struct ArgumentParser: Sendable {
    /// The root of the command tree.
    public let root: CommandSpec

    public init(root: CommandSpec) { self.root = root }

    /// Parses `arguments` (without the program name).
    /// - Throws: `UsageError` for anything that is not a valid invocation.
    public func parse(_ arguments: [String]) throws(UsageError) -> ParseOutcome {
        var tokens = arguments[...]
        var path: [String] = []
        var spec = root
        if tokens.isEmpty { return .help([]) }
        if tokens.first == "--version" { return .version }
        if tokens.first == "help" {
            tokens.removeFirst()
            var helpPath: [String] = []
            var node = root
            for word in tokens {
                guard let next = node.subcommands.first(where: { $0.name == word }) else {
                    throw unknownCommand(word, in: node, path: helpPath)
                }
                helpPath.append(word)
                node = next
            }
            return .help(helpPath)
        }
        // Walk down the tree: words that name subcommands, and global options before them.
        var leading: [String: String] = [:]
        while !spec.subcommands.isEmpty, let word = tokens.first {
            if word.hasPrefix("--") && word != "--help" && word != "--version" {
                let name = String(word.dropFirst(2).prefix { $0 != "=" })
                guard let option = root.globals.first(where: { $0.name == name }), option.valueName != nil else {
                    throw unknownOption(word, options: root.globals, path: path)
                }
                tokens.removeFirst()
                let value: String
                if let equals = word.firstIndex(of: "=") {
                    value = String(word[word.index(after: equals)...])
                } else {
                    guard let next = tokens.popFirst() else {
                        throw UsageError("Missing value for '\(option.synopsis)'", path: path)
                    }
                    value = next
                }
                if let allowed = option.allowedValues, !allowed.contains(value),
                    !allowed.contains(where: { $0.hasSuffix(":") && value.hasPrefix($0) })
                {
                    throw UsageError(
                        "The value '\(value)' is invalid for '\(option.synopsis)'. Please provide one of \(Self.list(allowed.map { $0.hasSuffix(":") ? $0 + "ID" : $0 })).",
                        path: path)
                }
                leading[name] = value
                continue
            }
            if word.hasPrefix("-") { break }
            guard let next = spec.subcommands.first(where: { $0.name == word }) else {
                throw unknownCommand(word, in: spec, path: path)
            }
            tokens.removeFirst()
            path.append(word)
            spec = next
        }
        if tokens.contains("--help") || tokens.contains("-h") { return .help(path) }
        if tokens.contains("--version") && path.isEmpty { return .version }
        guard spec.action != nil else {
            if let word = tokens.first, word.hasPrefix("-") {
                throw unknownOption(word, options: root.globals, path: path)
            }
            throw UsageError(
                "Missing subcommand for '\((["tandem"] + path).joined(separator: " "))'. Choose one of: \(spec.subcommands.map(\.name).joined(separator: ", ")).",
                path: path)
        }
        var parsed = try parseOptions(tokens, spec: spec, path: path)
        parsed.leading = leading
        return .run(parsed)
    }

    private func parseOptions(
        _ input: ArraySlice<String>, spec: CommandSpec, path: [String]
    ) throws(UsageError) -> ParsedCommand {
        var tokens = input
        var values: [String: [String]] = [:]
        var positional: [String] = []
        let options = spec.allOptions
        var onlyPositional = false
        while let token = tokens.popFirst() {
            if onlyPositional || !token.hasPrefix("--") || token == "-" {
                if token.hasPrefix("-") && token != "-" && !onlyPositional && Double(token) == nil {
                    throw unknownOption(token, options: options, path: path)
                }
                positional.append(token)
                continue
            }
            if token == "--" {
                onlyPositional = true
                continue
            }
            var name = String(token.dropFirst(2))
            var inline: String? = nil
            if let equals = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw unknownOption("--" + name, options: options, path: path)
            }
            let value: String
            if option.valueName == nil {
                if inline != nil { throw UsageError("The flag '--\(name)' does not take a value.", path: path) }
                value = ""
            } else if let inline {
                value = inline
            } else if let next = tokens.first,
                !(next.hasPrefix("--") && next.count > 2
                    && options.contains { "--" + $0.name == next.split(separator: "=").first.map(String.init) })
            {
                value = next
                tokens.removeFirst()
            } else {
                throw UsageError("Missing value for '\(option.synopsis)'", path: path)
            }
            if let allowed = option.allowedValues, !allowed.contains(value),
                !allowed.contains(where: { $0.hasSuffix(":") && value.hasPrefix($0) })
            {
                throw UsageError(
                    "The value '\(value)' is invalid for '\(option.synopsis)'. Please provide one of \(Self.list(allowed.map { $0.hasSuffix(":") ? $0 + "ID" : $0 })).",
                    path: path)
            }
            if values[name] != nil && !option.repeatable {
                throw UsageError("The option '--\(name)' was given more than once; give it once.", path: path)
            }
            values[name, default: []].append(value)
        }
        for option in options
        where option.required && values[option.name] == nil && !(spec.globals.contains { $0.name == option.name }) {
            throw UsageError("Missing expected argument '\(option.synopsis)'", path: path)
        }
        let required = spec.arguments.filter { !$0.optional }
        if positional.count < required.count {
            throw UsageError("Missing expected argument '<\(required[positional.count].name)>'", path: path)
        }
        if positional.count > spec.arguments.count {
            throw UsageError("Unexpected argument '\(positional[spec.arguments.count])'", path: path)
        }
        return ParsedCommand(path: path, spec: spec, values: values, arguments: positional)
    }

    private func unknownOption(_ token: String, options: [OptionSpec], path: [String]) -> UsageError {
        let name =
            token.hasPrefix("--") ? String(token.dropFirst(2).prefix { $0 != "=" }) : String(token.drop { $0 == "-" })
        if let suggestion = Self.closest(name, among: options.map(\.name)), suggestion != name {
            return UsageError(
                "Unknown option '\(token.prefix { $0 != "=" })'. Did you mean '--\(suggestion)'?", path: path)
        }
        return UsageError("Unknown option '\(token.prefix { $0 != "=" })'", path: path)
    }

    private func unknownCommand(_ word: String, in spec: CommandSpec, path: [String]) -> UsageError {
        let names = spec.subcommands.map(\.name)
        if let suggestion = Self.closest(word, among: names) {
            return UsageError("Unknown command '\(word)'. Did you mean '\(suggestion)'?", path: path)
        }
        return UsageError("Unknown command '\(word)'. Choose one of: \(names.joined(separator: ", ")).", path: path)
    }

    /// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
    static func closest(_ word: String, among candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return nil }
        let limit = max(1, min(3, best.0.count / 3 + 1))
        if best.1 <= limit { return best.0 }
        // A prefix counts too: `--prog` for `--programme`.
        return candidates.first { $0.hasPrefix(word) && word.count >= 3 }
    }

    /// Levenshtein distance with transpositions (optimal string alignment).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    /// "'a', 'b' or 'c'".
    static func list(_ items: [String]) -> String {
        let quoted = items.map { "'\($0)'" }
        guard quoted.count > 1 else { return quoted.first ?? "" }
        return quoted.dropLast().joined(separator: ", ") + " or " + quoted.last!
    }

    // MARK: Help

    /// The spec at `path`.
    public func spec(at path: [String]) -> CommandSpec {
        var node = root
        for word in path { node = node.subcommands.first { $0.name == word } ?? node }
        return node
    }

    /// The one-line usage of the command at `path`.
    public func usage(_ path: [String]) -> String {
        let spec = spec(at: path)
        var parts = ["tandem"] + path
        if !spec.subcommands.isEmpty && spec.action == nil { parts.append("<subcommand>") }
        for option in spec.options where option.required { parts.append(option.synopsis) }
        for argument in spec.arguments {
            parts.append(argument.optional ? "[<\(argument.name)>]" : "<\(argument.name)>")
        }
        if spec.allOptions.contains(where: { !$0.required }) { parts.append("[<options>]") }
        return parts.joined(separator: " ")
    }

    /// The full help text, in swift-argument-parser's sections.
    public func help(_ path: [String], version: String) -> String {
        let spec = spec(at: path)
        var out = "OVERVIEW: \(spec.abstract)\n"
        if let discussion = spec.discussion {
            let lines = discussion.split(separator: "\n", omittingEmptySubsequences: false)
            out += "\n" + lines.map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n") + "\n"
        }
        out += "\nUSAGE: \(usage(path))\n"
        if !spec.arguments.isEmpty {
            out += "\nARGUMENTS:\n"
            for argument in spec.arguments { out += Self.row("<\(argument.name)>", argument.help) }
        }
        let options =
            spec.allOptions + [OptionSpec.flag("help", "Show help information.")]
            + (path.isEmpty ? [OptionSpec.flag("version", "Show the version.")] : [])
        out += "\nOPTIONS:\n"
        for option in options {
            var help = option.help
            if let allowed = option.allowedValues, !help.contains("(values:") {
                help += " (values: \(allowed.map { $0.hasSuffix(":") ? $0 + "<id>" : $0 }.joined(separator: ", ")))"
            }
            if option.required { help += " (required)" }
            out += Self.row(option.synopsis, help)
        }
        if !spec.subcommands.isEmpty {
            out += "\nSUBCOMMANDS:\n"
            for sub in spec.subcommands { out += Self.row(sub.name, sub.abstract) }
            out += "\n  See 'tandem help \((path + ["<subcommand>"]).joined(separator: " "))' for detailed help.\n"
        }
        if path.isEmpty { out += "\n\(version)\n" }
        return out
    }

    /// One help row: the name in a 28-column field, the text wrapped to 80 columns.
    static func row(_ name: String, _ text: String) -> String {
        let indent = 2, width = 28, total = 80
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if current.isEmpty {
                current = String(word)
            } else if indent + width + current.count + 1 + word.count > total {
                lines.append(current)
                current = String(word)
            } else {
                current += " " + word
            }
        }
        if !current.isEmpty { lines.append(current) }
        let pad = String(repeating: " ", count: indent + width)
        var out = String(repeating: " ", count: indent) + name
        if name.count + indent >= indent + width - 1 || lines.isEmpty {
            out += "\n"
            for line in lines { out += pad + line + "\n" }
            return out
        }
        out += String(repeating: " ", count: width - name.count) + lines[0] + "\n"
        for line in lines.dropFirst() { out += pad + line + "\n" }
        return out
    }
}
