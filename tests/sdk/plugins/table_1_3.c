/*
 * A plugin built against ABI 1.3, whose table ends after cancel(): its
 * struct_size is offsetof(coffer_provider, versions), and its values end
 * before created_unix_ms. The storage behind both is current: the table's
 * versions() and purge() answer success and the value's created_unix_ms holds
 * a time, so a core that read past either struct_size would be caught. It
 * also claims the 1.4 capabilities, which the core must drop.
 */
#define FIXED_KEY "Old.Key"
#define FIXED_VALUE "value-from-a-1.3-table"
#include "fixed_value.h"

static void get_1_3(coffer_instance *instance, const coffer_get_request *request,
                    coffer_get_callback done, void *context) {
  static const char value_text[] = FIXED_VALUE;
  coffer_value value;
  if (strcmp(request->key, FIXED_KEY) != 0) {
    fixed_get(instance, request, done, context); /* not found */
    return;
  }
  memset(&value, 0, sizeof value);
  value.struct_size = offsetof(coffer_value, created_unix_ms);
  value.data = (const unsigned char *)value_text;
  value.size = sizeof value_text - 1;
  value.version = "v1";
  value.created_unix_ms = 1700000000000; /* past struct_size: must not be read */
  done(context, COFFER_STATUS_OK, &value, NULL);
}

/* Answer success: a test fails if the core calls them (past struct_size). */
static void trap_versions(coffer_instance *instance, const char *key, coffer_versions_callback done,
                          void *context) {
  static const coffer_version_entry entry = {sizeof(coffer_version_entry), "trap", 1, 1};
  (void)instance, (void)key;
  done(context, COFFER_STATUS_OK, &entry, 1, NULL);
}
static void trap_purge(coffer_instance *instance, const char *key, coffer_done_callback done,
                       void *context) {
  (void)instance, (void)key;
  done(context, COFFER_STATUS_OK, NULL, NULL);
}

static const coffer_provider table = {
    .struct_size = offsetof(coffer_provider, versions),
    .abi_version = (COFFER_ABI_VERSION_MAJOR << 16) | 3u,
    .name = "table_1_3",
    .plugin_version = "1.3.0",
    .description = "test: a table of ABI 1.3",
    .capabilities = COFFER_CAP_GET | COFFER_CAP_HISTORY | COFFER_CAP_SOFT_DELETE,
    .open = fixed_open,
    .close = fixed_close,
    .get = get_1_3,
    .versions = trap_versions,
    .purge = trap_purge,
};

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  (void)core_abi_version;
  return &table;
}
