/* A "PKCS#11 module" an intruder plants: loading it is already running the intruder's code, so it leaves a
 * mark ($PLANTED_MARK) the moment it is loaded. certkit must never load it on a CA folder's say-so. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void planted(void) {
    const char *mark = getenv("PLANTED_MARK");
    FILE *f = mark ? fopen(mark, "w") : NULL;
    if (f) {
        fputs("loaded\n", f);
        fclose(f);
    }
}

/* Enough of an entry point for a loader to resolve. */
int C_GetFunctionList(void **list) {
    (void)list;
    return 5; /* CKR_GENERAL_ERROR */
}
