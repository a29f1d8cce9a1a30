import TandemCLI

#if canImport(Glibc)
    import Glibc
#endif

exit(TandemCLI.run(Array(CommandLine.arguments.dropFirst()), context: .process()))
