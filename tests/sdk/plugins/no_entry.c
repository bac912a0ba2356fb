/*
 * A shared object that is not a coffer plugin: it exports a function, but not
 * coffer_provider_entry (here a plausible misspelling).
 */
#include <coffer/provider.h>

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_init(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_init(uint32_t core_abi_version) {
  (void)core_abi_version;
  return NULL;
}
