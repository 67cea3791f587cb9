#ifndef LONGMIX_CSTRINGMASKS_H
#define LONGMIX_CSTRINGMASKS_H

#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// The bytes of a 64-byte block a JSON string scan must look at, one bit per byte (bit k: byte k).
typedef struct {
    uint64_t backslashes;  // '\\'
    uint64_t quotes;       // '"'
    uint64_t stops;        // below 0x20 (control) or 0x80 and above (non-ASCII)
} LongMixStringMasks;

/// The masks of the 64 bytes at `p` (all readable). Swift has no byte-mask extraction (x86's
/// pmovmskb), and its 64-bit SWAR alternative is vectorized badly by the compiler, so this one
/// step of `JSONScanner.measureStringBlock` is C: SSE2 compares and movemasks where the CPU has
/// them (every x86-64), a byte loop elsewhere.
static inline LongMixStringMasks longmix_string_masks(const unsigned char *p) {
    LongMixStringMasks m = {0, 0, 0};
#if defined(__SSE2__)
    const __m128i backslash = _mm_set1_epi8(0x5C), quote = _mm_set1_epi8(0x22), space = _mm_set1_epi8(0x20);
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        uint64_t shift = 16 * (uint64_t)k;
        m.backslashes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, backslash)) << shift;
        m.quotes |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << shift;
        // Signed: bytes of 0x80 and above are negative, so one compare finds both kinds of stop.
        m.stops |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmplt_epi8(v, space)) << shift;
    }
#else
    for (int k = 0; k < 64; k++) {
        unsigned char b = p[k];
        m.backslashes |= (uint64_t)(b == 0x5C) << k;
        m.quotes |= (uint64_t)(b == 0x22) << k;
        m.stops |= (uint64_t)(b < 0x20 || b >= 0x80) << k;
    }
#endif
    return m;
}

#endif
