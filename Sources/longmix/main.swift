// The `longmix` executable: every command lives in the LongMixCLI library (so tests can parse
// README lines against the real command tree); this only runs it.
import LongMixCLI

LongMix.runMain()
