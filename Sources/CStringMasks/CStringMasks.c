// The module is its header's one static inline function; SwiftPM needs a source file per C target.
#include "CStringMasks.h"
