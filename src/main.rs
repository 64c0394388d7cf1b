fn main() -> std::process::ExitCode {
    hoist::run(std::env::args_os())
}
