/*
 * A shared object that exports coffer_provider_entry as data, not as a
 * function. Calling it would jump into a table of bytes. (It does not include
 * provider.h, which declares the symbol as the function it should be.)
 */
__attribute__((visibility("default"))) const unsigned char coffer_provider_entry[64] = {0};
