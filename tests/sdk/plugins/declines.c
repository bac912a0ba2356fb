/* A plugin whose entry returns NULL: it will not work with this core. */
#include <coffer/provider.h>

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  (void)core_abi_version;
  return NULL;
}
