// Wrappers for zlib macros, which Swift cannot import as functions.
#ifndef GRAPH_COLLECTOR_CZLIB_SHIM_H
#define GRAPH_COLLECTOR_CZLIB_SHIM_H

#include <zlib.h>

/// deflateInit2 is a macro over deflateInit2_ (it passes the version and struct size).
/// windowBits 15 + 16 = 31 writes a gzip wrapper (RFC 1952) instead of a zlib one.
static inline int czlib_deflate_init2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}
/// inflateInit2 is a macro too; windowBits 15 + 32 accepts gzip and zlib headers.
static inline int czlib_inflate_init2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

#endif
