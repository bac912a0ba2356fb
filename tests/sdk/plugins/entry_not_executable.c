/*
 * A shared object whose coffer_provider_entry is typed as a function but lies
 * in a writable, non-executable data section: only the segment check tells.
 */
__asm__(
    ".section .data\n"
    ".globl coffer_provider_entry\n"
    ".type coffer_provider_entry, @function\n"
    "coffer_provider_entry:\n"
    ".byte 0xc3\n"
    ".size coffer_provider_entry, 1\n"
    ".text\n");
