import CReadlineShim
import Interpreter

/// Connects Ctrl-C to the interpreter: the C handler raises a flag that evaluation polls.
enum SignalHandling {
    /// Installs the SIGINT handler and makes `interpreter` stop when it fires.
    static func install(for interpreter: Interpreter) {
        cryo_install_sigint_handler()
        interpreter.shouldInterrupt = { cryo_take_interrupt() != 0 }
    }

    /// Forgets a Ctrl-C pressed before evaluation started (e.g. at the prompt).
    static func clearPending() {
        _ = takePending()
    }

    /// Whether Ctrl-C was pressed since the last check (at the prompt, the entry being typed is abandoned).
    static func takePending() -> Bool {
        cryo_take_interrupt() != 0
    }
}
