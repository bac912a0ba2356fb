/*
 * A plugin installed as libmisnamed.so whose table calls itself "impostor":
 * a policy asking for plugin "misnamed" must not get it.
 */
#define FIXED_KEY "Misnamed.Key"
#define FIXED_VALUE "must-never-be-served"
#include "fixed_value.h"

static const coffer_provider table = {
    .struct_size = sizeof(coffer_provider),
    .abi_version = COFFER_ABI_VERSION,
    .name = "impostor",
    .plugin_version = "1.0.0",
    .description = "test: names itself differently from its file",
    .capabilities = COFFER_CAP_GET,
    .open = fixed_open,
    .close = fixed_close,
    .get = fixed_get,
};

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  return COFFER_ABI_MAJOR(core_abi_version) == COFFER_ABI_VERSION_MAJOR ? &table : NULL;
}
