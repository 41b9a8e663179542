/* Debian 12's Wine 8 has no bcryptprimitives.dll, where Rust's standard library (since 1.78)
 * finds ProcessPrng, its source of random bytes on Windows: without it every Rust program stops
 * at start-up. This DLL provides ProcessPrng over bcrypt.dll's BCryptGenRandom, which Wine has.
 * scripts/windows-tests.sh builds it with mingw-w64 into the Wine prefix; Windows 10 and later
 * ship the real one. Only for running the tests under Wine: no lesson uses it. */
#include <windows.h>
#include <bcrypt.h>

/* Windows documents ProcessPrng as always returning TRUE; a failure here is Wine's, and
 * reporting it lets the caller (std) stop with an error instead of using unfilled bytes. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a 32-bit length: fill larger buffers in pieces. */
    while (len > 0) {
        ULONG piece = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, piece, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += piece;
        len -= piece;
    }
    return TRUE;
}
