// The buffer-less streaming functions (ZSTD_decompressContinue and friends) are in zstd.h's
// static-linking section; libzstd's shared library exports them.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>
