/*
 * Built WITHOUT coffer_add_provider: default visibility and no version
 * script, so it exports a second symbol. The export check must reject it.
 */
#define FIXED_KEY "Leaky.Key"
#define FIXED_VALUE "leaky"
#include "fixed_value.h"

static const coffer_provider table = {
    .struct_size = sizeof(coffer_provider),
    .abi_version = COFFER_ABI_VERSION,
    .name = "leaky",
    .plugin_version = "1.0.0",
    .description = "test: exports more than its entry",
    .capabilities = COFFER_CAP_GET,
    .open = fixed_open,
    .close = fixed_close,
    .get = fixed_get,
};

int leaky_internal_counter(void);
int leaky_internal_counter(void) {
  return 42;
}

const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  return COFFER_ABI_MAJOR(core_abi_version) == COFFER_ABI_VERSION_MAJOR ? &table : NULL;
}
