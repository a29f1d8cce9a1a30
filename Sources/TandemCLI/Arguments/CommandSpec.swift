/// One option a command accepts: `--name <value>` or a flag.
public struct OptionSpec: Sendable {
    /// The long name without dashes, e.g. `store`.
    public var name: String
    /// The value's name in usage text, e.g. `dir`; nil for a flag.
    public var valueName: String?
    /// One line of help.
    public var help: String
    /// The allowed values, if the value is one of a fixed set.
    public var allowedValues: [String]?
    /// Whether the option may be given more than once.
    public var repeatable: Bool
    /// Whether the command cannot run without it.
    public var required: Bool

    /// An option that takes a value.
    public static func value(
        _ name: String, _ valueName: String, _ help: String, allowed: [String]? = nil,
        repeatable: Bool = false, required: Bool = false
    ) -> OptionSpec {
        OptionSpec(
            name: name, valueName: valueName, help: help, allowedValues: allowed, repeatable: repeatable,
            required: required)
    }

    /// A flag: present or absent.
    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, allowedValues: nil, repeatable: false, required: false)
    }

    /// `--name <value>` or `--name`.
    public var synopsis: String { valueName.map { "--\(name) <\($0)>" } ?? "--\(name)" }
}

/// A positional argument.
public struct ArgumentSpec: Sendable {
    /// The argument's name in usage text.
    public var name: String
    /// One line of help.
    public var help: String
    /// Whether it may be left out.
    public var optional: Bool

    public init(name: String, help: String, optional: Bool = false) {
        self.name = name
        self.help = help
        self.optional = optional
    }
}

/// What a command's `run` receives: its options and arguments, and where to write.
public typealias CommandAction = @Sendable (ParsedCommand, CommandContext) throws -> Int32

/// A command or a group of subcommands.
public struct CommandSpec: Sendable {
    /// The command's own name, e.g. `launch`.
    public var name: String
    /// One sentence on what it does.
    public var abstract: String
    /// More text for `--help`, or nil.
    public var discussion: String?
    /// The options it accepts, besides the global ones.
    public var options: [OptionSpec]
    /// Positional arguments.
    public var arguments: [ArgumentSpec]
    /// Subcommands; a group has these and no action.
    public var subcommands: [CommandSpec]
    /// Which global options apply: recording commands take `--key`, queries take
    /// `--format`, `--as-of`, and so on.
    public var globals: [OptionSpec]
    /// What running it does; nil for a group.
    public var action: CommandAction?

    public init(
        name: String, abstract: String, discussion: String? = nil, options: [OptionSpec] = [],
        arguments: [ArgumentSpec] = [], globals: [OptionSpec] = [], subcommands: [CommandSpec] = [],
        action: CommandAction? = nil
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
        self.globals = globals
        self.action = action
    }

    /// Every option this command accepts. A command's own option shadows a global of the
    /// same name (`signup --role` is the participant's role, not the viewer's).
    public var allOptions: [OptionSpec] {
        let own = Set(options.map(\.name))
        return options + globals.filter { !own.contains($0.name) }
    }

    /// Whether the command's own options shadow the global one called `name`.
    public func shadows(_ name: String) -> Bool {
        options.contains { $0.name == name } && globals.contains { $0.name == name }
    }
}

/// A command line after parsing: which command, and the values given.
public struct ParsedCommand: Sendable {
    /// The command's path from the root, e.g. `["goal", "set"]`.
    public var path: [String]
    /// The command's specification.
    public var spec: CommandSpec
    /// Option values by name (flags hold an empty string), in the order given.
    public var values: [String: [String]]
    /// Positional arguments.
    public var arguments: [String]
    /// Global options given before the command's name (`tandem --role analyst stats`).
    public var leading: [String: String] = [:]

    /// The option's value, or nil. A global given before the command's name counts unless
    /// the command has an option of its own by that name.
    public func value(_ name: String) -> String? {
        values[name]?.last ?? (spec.options.contains { $0.name == name } ? nil : leading[name])
    }

    /// A global option's value, given before the command's name or (unless shadowed) after.
    public func globalValue(_ name: String) -> String? {
        leading[name] ?? (spec.shadows(name) ? nil : values[name]?.last)
    }
    /// Every value of a repeatable option.
    public func values(_ name: String) -> [String] { values[name] ?? [] }
    /// Whether a flag (or option) was given.
    public func has(_ name: String) -> Bool { values[name] != nil || leading[name] != nil }

    /// The full command name, e.g. `tandem goal set`.
    public var commandName: String { (["tandem"] + path).joined(separator: " ") }
}
