/*
 * A plugin that reports ABI 2.1, a major version this core does not
 * implement, and returns its table whatever the core's version (as a careless
 * plugin would). The core must refuse it without calling anything in it.
 */
#define FIXED_KEY "Future.Key"
#define FIXED_VALUE "must-never-be-served"
#include "fixed_value.h"

static const coffer_provider table = {
    .struct_size = sizeof(coffer_provider),
    .abi_version = (2u << 16) | 1u,
    .name = "future_major",
    .plugin_version = "9.0.0",
    .description = "test: built for ABI 2.1",
    .capabilities = COFFER_CAP_GET,
    .open = fixed_open,
    .close = fixed_close,
    .get = fixed_get,
};

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  (void)core_abi_version;
  return &table;
}
