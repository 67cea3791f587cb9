// The `longmix` executable: every command lives in the LongMixCLI library (so tests can parse
// README lines against the real command tree); this only runs it.
import LongMixCLI
import ShardIO

// SIGINT/SIGTERM remove this run's temporaries before the process exits.
TemporaryFiles.installSignalCleanup()
LongMix.runMain()
